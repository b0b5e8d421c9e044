/**
 * The constructor against the reference's own files. tests/fixtures/hypersio/reference_trace_sha256.json holds the
 * SHA-256 of the three files the reference Trace Constructor code (PrincetonUniversity/hypersio @ 77edd0b:
 * Trace::ReadLogs/PushEvent/SaveTrace and its event parsers, compiled with g++ 12) wrote for these synthetic logs:
 * rr/rand/orig, bursts of 3 and 6, several logs, and 16 devices per log (the SID-collision quirk). Rebuilt here,
 * every file must be byte-identical, including cc_data/slpt_data in unordered_map order.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { buildTrace, writeSyntheticLog } from "../../../lib/hypersio/mod.ts";
import type { TraceOrder } from "../../../lib/hypersio/trace_builder.ts";
import { tempDir } from "../../_helpers.ts";

interface Case {
  logs: string;
  tenants: number;
  order: TraceOrder;
  consec: number;
  file: string;
  sha256: Record<string, string>;
}

const cases: Case[] = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/hypersio/reference_trace_sha256.json", import.meta.url)),
);

Deno.test("trace builder output is byte-identical to the reference constructor's (5 builds, 15 files)", async () => {
  using d = tempDir();
  for (let k = 0; k < 2; k++) {
    await writeSyntheticLog(`${d.path}/a_vm_4_${k}.txt`, {
      devices: 4,
      translationsPerDevice: 200 + 50 * k,
      seed: 41 + k,
      pagesPerDevice: 25,
    });
    await writeSyntheticLog(`${d.path}/b_vm_16_${k}.txt`, {
      devices: 16,
      translationsPerDevice: 60,
      seed: 51 + k,
      pagesPerDevice: 10,
    });
  }
  for (const c of cases) {
    const r = await buildTrace({
      logPrefix: `${d.path}/${c.logs}`,
      tenants: c.tenants,
      order: c.order,
      consec: c.consec,
      outDir: d.path,
      name: "x",
    });
    assert.ok(r.files.iotlb.endsWith(`${c.file}iotlb_trace.bin`), `${r.files.iotlb} named like ${c.file}…`);
    for (
      const [name, path] of [["iotlb_trace.bin", r.files.iotlb], ["cc_data.bin", r.files.cc], [
        "slpt_data.bin",
        r.files.slpt,
      ]]
    ) {
      const sha = createHash("sha256").update(await Deno.readFile(path)).digest("hex");
      assert.equal(sha, c.sha256[name], `${JSON.stringify(c)} ${name}`);
    }
  }
});

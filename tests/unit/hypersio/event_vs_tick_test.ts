import assert from "node:assert/strict";
import { buildTrace } from "../../../lib/hypersio/trace_builder.ts";
import { type ModelResult, runModel } from "../../../lib/hypersio/model.ts";
import { writeSyntheticLog } from "../../../lib/hypersio/synthetic_log.ts";
import type { RunOptionsInput } from "../../../lib/hypersio/config.ts";
import { tempDir } from "../../_helpers.ts";

const strip = (r: ModelResult) => ({ ...r, cyclesRun: 0, options: { ...r.options, mode: "x" } });

Deno.test("model: event-driven mode gives results identical to ticking every ns, on several traces and options", async () => {
  using d = tempDir();
  for (let k = 0; k < 2; k++) {
    await writeSyntheticLog(`${d.path}/n_vm_4_${k}.txt`, {
      devices: 4,
      translationsPerDevice: 240,
      seed: 11 + k,
      pagesPerDevice: 40,
    });
  }
  const traces = [];
  for (const [tenants, order, consec] of [[1, "rr", 3], [4, "rand", 6], [8, "rr", 3], [6, "orig", 3]] as const) {
    traces.push(
      (await buildTrace({ logPrefix: `${d.path}/n_vm_4`, tenants, order, consec, outDir: d.path, name: "n" })).files
        .iotlb,
    );
  }
  const cases: [unknown, RunOptionsInput][] = [
    [{}, {}],
    [{ PREFETCH: { size: 16, assoc: 2, groups: 1, histlen: 2 } }, {}],
    [{ IOTLB: { size: 16, assoc: 4, groups: 2, histlen: 0 } }, { iotlbRepl: "lfu", salloc: true }],
    [{}, { iotlbRepl: "oracle", tqueue: 6 }],
    [{}, { inorder: true, linkGbps: 400 }],
    [{ L2PAGE: { size: 32, assoc: 4, groups: 1, histlen: 0 } }, {
      quirks: { walkLatencyByLevel: false, prefetchWithoutBuffer: false, iotlbIndex2M: false, iotlbCountAtFill: false },
    }],
  ];
  let compared = 0;
  for (const t of traces) {
    for (const [cfg, opt] of cases) {
      const ev = runModel(t, cfg, { ...opt, mode: "event" });
      const tk = runModel(t, cfg, { ...opt, mode: "tick" });
      assert.deepEqual(strip(ev), strip(tk), `${t} ${JSON.stringify(cfg)} ${JSON.stringify(opt)}`);
      assert.ok(ev.cyclesRun < tk.cyclesRun);
      assert.equal(tk.cyclesRun, tk.elapsedNs);
      compared++;
    }
  }
  assert.equal(compared, 24);
});

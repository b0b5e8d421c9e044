/** Scalevisor parameters: defaults, derived sizes, and every bad input named by its flag. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { parseParams, runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import scalevisor from "../../../playbooks/scalevisor/mod.ts";
import { resolveSizes, ScalevisorParams, type ScalevisorParamsT } from "../../../playbooks/scalevisor/params.ts";
import { tempDir } from "../../_helpers.ts";

const params = (over: Record<string, unknown> = {}): ScalevisorParamsT => ScalevisorParams.parse(over);

function failsWith(over: Record<string, unknown>, field: string, expected: RegExp): void {
  assert.throws(
    () => resolveSizes(params(over)),
    (e) => e instanceof InputError && e.field === field && expected.test(e.message),
    `${JSON.stringify(over)} should fail on ${field}`,
  );
}

Deno.test("scalevisor params: defaults give a 96M working set in a 256M guest, disk spread over 2 servers", () => {
  const s = resolveSizes(params());
  assert.deepEqual(s, {
    diskBytes: 128 << 20,
    poolBytes: 128 << 20,
    perServerBytes: 64 << 20,
    workingSetBytes: 96 << 20,
    guestMemoryMiB: 256,
    kmeans: { points: (96 << 20) / 32, dims: 8, k: 4, iterations: 2 },
    perMille: [1000, 750, 500, 250],
  });
  assert.equal(
    resolveSizes(params({ servers: 3, disk: "100M" })).perServerBytes,
    Math.ceil((100 << 20) / 3 / 4096) * 4096,
  );
});

Deno.test("scalevisor params: cross-field rules name the flag and the expectation", () => {
  failsWith({ servers: 1, poolPerServer: "16M", disk: "64M" }, "--disk", /at most --servers × --pool-per-server/);
  failsWith({ disk: "1000" }, "--disk", /multiple of 4 KiB/);
  failsWith({ disk: "64M", workingSet: "96M" }, "--working-set", /at most --disk \(64M\)/);
  failsWith({ guestMemory: "192M", workingSet: "97M", disk: "128M" }, "--working-set", /at most --guest-memory/);
  failsWith({ guestMemory: "100M" }, "--guest-memory", /at least 128M/);
  failsWith({ guestMemory: "200000K" }, "--guest-memory", /whole number of MiB/);
  failsWith({ ratios: [1, 0.5, 0.5] }, "--ratios[2]", /distinct ratios/);
  failsWith({ ratios: [0.1234] }, "--ratios[0]", /three decimals/);
  failsWith({ workingSet: "64", dims: 8, k: 4 }, "--k", /at most the number of points \(2\)/);
  failsWith({ workingSet: "16", dims: 8 }, "workingSet", /at least 32 bytes/);
});

Deno.test("scalevisor params: schema errors name the parameter", () => {
  const bad: [Record<string, unknown>, string, RegExp][] = [
    [{ ratios: [0] }, "ratios[0]", /0/],
    [{ ratios: [1.5] }, "ratios[0]", /1/],
    [{ ratios: [] }, "ratios", /1/],
    [{ servers: 0 }, "servers", /1/],
    [{ servers: 2.5 }, "servers", /int/i],
    [{ poolPerServer: "lots" }, "poolPerServer", /a size like 256M/],
    [{ disk: "-1M" }, "disk", /a size like 256M/],
    [{ merge: "yes" }, "merge", /bool/i],
    [{ runTimeout: 1 }, "runTimeout", /10/],
    [{ bogus: 1 }, "(root)", /bogus|unrecognized/i],
  ];
  for (const [raw, field, msg] of bad) {
    assert.throws(
      () => parseParams(scalevisor, raw),
      (e) => e instanceof InputError && e.field === field && msg.test(e.message),
      `${JSON.stringify(raw)} should fail on ${field}`,
    );
  }
});

Deno.test("scalevisor params: --limit without --inventory and too many --servers for the nodes fail before anything runs", async () => {
  using dir = tempDir();
  const inv = `${dir.path}/one-node.yaml`;
  await Deno.writeTextFile(inv, "nodes:\n  - name: m0\n    host: 10.9.9.9\n    user: nobody\n");
  const store = ResultsStore.open(`${dir.path}/r.db`);
  try {
    const a = await runPlaybook(scalevisor, { limit: "n1" }, { store, dryRun: true });
    assert.equal(a.status, "failed");
    assert.ok(a.error instanceof InputError && a.error.field === "--limit", String(a.error));
    const b = await runPlaybook(scalevisor, { inventory: inv, servers: 2 }, { store, dryRun: true });
    assert.equal(b.status, "failed");
    assert.ok(
      b.error instanceof InputError && b.error.field === "--servers" && /at most the 1 node/.test(b.error.message),
      String(b.error),
    );
    const c = await runPlaybook(scalevisor, { inventory: `${dir.path}/missing.yaml` }, { store, dryRun: true });
    assert.equal(c.status, "failed");
    assert.match(String((c.error as Error).message), /missing\.yaml/);
    for (const o of [a, b, c]) assert.deepEqual(store.planEntries(o.runId), [], "nothing planned before the check");
  } finally {
    store.close();
  }
});

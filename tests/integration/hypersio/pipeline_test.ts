/**
 * End-to-end HyperSIO on this machine: synthetic logs (SIMULATED: generated, not collected from a guest) → trace
 * constructor → model, a resumable parallel sweep interrupted and resumed, and the playbooks run through the runner.
 */
import assert from "node:assert/strict";
import { buildTrace, readJournal, runModel, runSweep, writeSyntheticLog } from "../../../lib/hypersio/mod.ts";
import { hitRatePlot, utilizationPlot } from "../../../lib/hypersio/sweep_plots.ts";
import { summarize } from "../../../lib/hypersio/sweep_summary.ts";
import { pointModel } from "../../../lib/hypersio/sweep.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import traceDump from "../../../playbooks/hypersio/trace-dump.ts";
import modelPb from "../../../playbooks/hypersio/model.ts";
import { tempDir } from "../../_helpers.ts";

async function logs(dir: string): Promise<string> {
  for (let k = 0; k < 2; k++) {
    await writeSyntheticLog(`${dir}/s_vm_4_${k}.txt`, { devices: 4, translationsPerDevice: 300, seed: k + 5 });
  }
  return `${dir}/s_vm_4`;
}

Deno.test("hypersio sweep: parallel workers, interrupted, resumed without redoing finished points", async () => {
  using d = tempDir();
  const prefix = await logs(d.path);
  const grid = { tenants: [1, 2, 4, 8], iotlbSize: [16, 64] };
  const journal = `${d.path}/sweep.jsonl`;
  const ac = new AbortController();
  let seen = 0;
  await assert.rejects(() =>
    runSweep({
      grid,
      logPrefix: prefix,
      traceDir: `${d.path}/traces`,
      journal,
      workers: 2,
      signal: ac.signal,
      onPoint: () => {
        if (++seen === 3) ac.abort(new Error("interrupted by test"));
      },
    })
  );
  const saved = (await readJournal(journal)).size;
  assert.ok(saved >= 3 && saved < 8, `journal has ${saved} points`);
  const again = await runSweep({ grid, logPrefix: prefix, traceDir: `${d.path}/traces`, journal, workers: 2 });
  assert.equal(again.points.length, 8);
  assert.equal(again.resumed, saved);
  assert.equal(again.computed, 8 - saved);
  // A worker's numbers equal an in-process run of the same point.
  const p = again.points.find((r) => r.point.tenants === 8 && r.point.iotlbSize === 16)!;
  const tr = await buildTrace({ logPrefix: prefix, tenants: 8, outDir: `${d.path}/check`, name: "c" });
  const { config, options } = pointModel(p.point);
  const direct = summarize(runModel(tr.files.iotlb, config, options), 0);
  assert.deepEqual({ ...p.summary, modelMs: 0 }, direct);
  // Bigger IOTLB never hits less on the same trace here.
  const small = again.points.find((r) => r.point.tenants === 8 && r.point.iotlbSize === 16)!.summary.iotlbHitRate;
  const big = again.points.find((r) => r.point.tenants === 8 && r.point.iotlbSize === 64)!.summary.iotlbHitRate;
  assert.ok(big >= small, `${big} >= ${small}`);
  assert.match(utilizationPlot(again.points), /^<svg[\s\S]*iotlbSize=16[\s\S]*<\/svg>/);
  assert.match(hitRatePlot(again.points), /^<svg[\s\S]*tenants=8[\s\S]*<\/svg>/);
});

Deno.test("hypersio playbooks: model and trace-dump run through the runner and record metrics and artifacts", async () => {
  using d = tempDir();
  const prefix = await logs(d.path);
  const tr = await buildTrace({ logPrefix: prefix, tenants: 8, outDir: d.path, name: "pb" });
  using store = ResultsStore.open(`${d.path}/results.db`);
  const pre = tr.files.iotlb.replace(/iotlb_trace\.bin$/, "");
  const m = await runPlaybook(modelPb, { prefix: pre, quirks: { iotlbCountAtFill: false } }, { store });
  assert.equal(m.status, "ok", String(m.error));
  const names = store.metrics(m.runId).map((x) => x.name);
  assert.ok(names.includes("utilization") && names.includes("IOTLB.hit"));
  assert.deepEqual(store.artifacts(m.runId).map((a) => a.name).sort(), ["config.cfg", "report.txt"]);
  assert.deepEqual((m.result as { quirksOn: string[] }).quirksOn, [
    "walkLatencyByLevel",
    "prefetchWithoutBuffer",
    "iotlbIndex2M",
  ]);
  const dump = await runPlaybook(traceDump, { prefix: pre, limit: 2 }, { store });
  assert.equal(dump.status, "ok", String(dump.error));
  assert.equal((dump.result as { translations: number }).translations, tr.translations);
  const bad = await runPlaybook(traceDump, { prefix: `${d.path}/nope_` }, { store });
  assert.equal(bad.status, "failed");
  assert.match(String((bad.error as Error).message), /nope_iotlb_trace\.bin/);
});

/**
 * The model against the reference's own numbers. tests/fixtures/hypersio/reference_golden.json holds what the
 * reference model code (PrincetonUniversity/hypersio @ 77edd0b, src/sioperf: SIOPerf::PlayIOVATrace/RunCycle, its
 * caches, rows and prefetcher, compiled with g++ 12 — the same code reproduces the spec's two exact checks) printed
 * for 24 (trace, configuration) pairs: LRU, LFU and oracle IOTLBs, a context cache small enough to evict (LFU), the
 * prefetcher, inorder queues, tqueue and static partitioning. The traces are rebuilt here from deterministic
 * synthetic logs, so the comparison is exact.
 */
import assert from "node:assert/strict";
import { buildTrace, runModel, writeSyntheticLog } from "../../../lib/hypersio/mod.ts";
import type { RunOptionsInput } from "../../../lib/hypersio/config.ts";
import type { TraceOrder } from "../../../lib/hypersio/trace_builder.ts";
import { tempDir } from "../../_helpers.ts";

interface Golden {
  trace: { tenants: number; order: TraceOrder; consec: number };
  case: string;
  config: Record<string, unknown>;
  options: RunOptionsInput;
  expect: {
    elapsedNs: number;
    translations: number;
    droppedPackets: number;
    mbps: number;
    caches: Record<string, number[]>;
    prefetcher: { bufferFill: number; bufferHit: number; predictionsMade: number };
  };
}

const golden: Golden[] = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/hypersio/reference_golden.json", import.meta.url)),
);

Deno.test("model equals the reference's output on 24 traces and configurations (LRU, LFU, oracle, prefetch…)", async () => {
  using d = tempDir();
  for (let k = 0; k < 2; k++) {
    await writeSyntheticLog(`${d.path}/g_vm_4_${k}.txt`, {
      devices: 4,
      translationsPerDevice: 300,
      seed: 31 + k,
      pagesPerDevice: 20,
    });
  }
  const traces = new Map<string, string>();
  for (const g of golden) {
    const id = JSON.stringify(g.trace);
    if (!traces.has(id)) {
      const b = await buildTrace({ logPrefix: `${d.path}/g_vm_4`, ...g.trace, outDir: d.path, name: "g" });
      traces.set(id, b.files.iotlb);
    }
    const r = runModel(traces.get(id)!, g.config, g.options);
    const got = {
      elapsedNs: r.elapsedNs,
      translations: r.translations,
      droppedPackets: r.droppedPackets,
      mbps: r.mbps,
      caches: Object.fromEntries(Object.entries(r.caches).map(([n, c]) => [n, [c.hit, c.miss, c.conflict]])),
      prefetcher: {
        bufferFill: r.prefetcher.bufferFill,
        bufferHit: r.prefetcher.bufferHit,
        predictionsMade: r.prefetcher.predictionsMade,
      },
    };
    assert.deepEqual(got, g.expect, `${id} ${g.case}`);
  }
});

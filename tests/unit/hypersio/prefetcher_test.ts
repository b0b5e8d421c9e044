import assert from "node:assert/strict";
import { Prefetcher, type Remembered } from "../../../lib/hypersio/prefetcher.ts";

const tr = (sid: number, page: number): Remembered => ({
  sid,
  did: sid,
  iovaHi: 0,
  iovaLo: page * 0x1000,
  maskHi: 0xffffffff,
  maskLo: 0xfffff000,
  lvl: 1,
  slpteHi: 0,
  slpteLo: 3,
});

Deno.test("prefetcher: learns SID[k-1-dist] → SID[k] and suggests the predicted SID's history", () => {
  const p = new Prefetcher(4, 2, 1); // distance 1
  // Sequence A B C A B C …: with distance 1 the mapping learned at k is SID[k-2] → SID[k]: A→C, B→A, C→B.
  const seq = [1, 2, 3, 1, 2, 3];
  // probe() returns a live view of the predicted SID's history: copy it at once.
  const out = seq.map((s, i) => p.probe(tr(s, 10 * s + i))?.map((r) => r.iovaLo) ?? null);
  assert.equal(out[0], null);
  assert.equal(out[2], null); // first mapping (A→C) learned at k=2, after the lookup of C
  const s = p.stats();
  assert.equal(s.newSidMappings, 3);
  // At k=3 (SID 1) the mapping 1→3 exists: prefetch SID 3's history (the one page it touched so far).
  assert.deepEqual(out[3], [32 * 0x1000]);
  assert.deepEqual(out[5], [(10 * 2 + 4) * 0x1000, (10 * 2 + 1) * 0x1000].reverse()); // SID 2's last two pages
  assert.deepEqual([s.accesses, s.predictionsMade, s.correctPredictions, s.incorrectPredictions], [6, 3, 0, 2]);
});

Deno.test("prefetcher: history keeps the last histlen pages and counts repeats; buffer is a small LRU", () => {
  const p = new Prefetcher(2, 2, 1);
  p.probe(tr(1, 1));
  p.probe(tr(1, 2));
  p.probe(tr(1, 1)); // in history → hit
  p.probe(tr(1, 3)); // history now [1,3]
  p.probe(tr(1, 2)); // 2 dropped out → miss
  assert.deepEqual(p.stats().history, [{ sid: 1, hit: 1, miss: 4 }]);
  assert.equal(p.stats().transToSameSid, 3); // the first two probes have no SID at distance 1 yet
  p.fill(1, 100);
  p.fill(1, 101);
  p.fill(1, 100); // already there
  p.fill(1, 102); // evicts 101 (100 was refreshed by the fill lookup)
  assert.deepEqual([p.lookup(1, 100), p.lookup(1, 101), p.lookup(1, 102)], [true, false, true]);
  const s = p.stats();
  assert.deepEqual([s.bufferFill, s.fillSame, s.bufferHit, s.bufferMiss], [4, 1, 2, 1]);
});

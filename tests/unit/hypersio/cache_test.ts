import assert from "node:assert/strict";
import { Cache } from "../../../lib/hypersio/cache.ts";
import { LfuRow, LruRow, OracleRow, SmallLruRow } from "../../../lib/hypersio/cache_rows.ts";
import { GlibcRandom } from "../../../lib/hypersio/glibc_rand.ts";

Deno.test("LRU rows (Map and small-array forms) evict the least recently used key and agree", () => {
  for (const row of [new LruRow(2), new SmallLruRow(2)]) {
    assert.equal(row.insert(1), false);
    assert.equal(row.insert(2), false);
    assert.equal(row.lookup(1), true); // 2 is now the oldest
    assert.equal(row.insert(3), true); // evicts 2
    assert.deepEqual([row.lookup(2), row.lookup(1), row.lookup(3)], [false, true, true]);
    assert.equal(row.insert(4), true); // evicts 1 (looked up before 3)
    assert.deepEqual([row.lookup(1), row.lookup(3), row.lookup(4)], [false, true, true]);
  }
  const rng = new GlibcRandom(5);
  const a = new LruRow(8), b = new SmallLruRow(8);
  for (let i = 0; i < 5000; i++) {
    const k = rng.rand() % 20;
    const ha = a.lookup(k), hb = b.lookup(k);
    assert.equal(ha, hb);
    if (!ha) assert.equal(a.insert(k), b.insert(k));
  }
});

Deno.test("LFU row: least-used victim, rand() among ties, counters halve together at 15", () => {
  const row = new LfuRow(3, new GlibcRandom(1));
  row.insert(101), row.insert(102), row.insert(103);
  for (let i = 0; i < 3; i++) row.lookup(101);
  row.lookup(102);
  assert.equal(row.insert(104), true); // c has count 0 → only candidate
  assert.equal(row.lookup(103), false);
  // Ties: b=1, d=0 → d is the only minimum again.
  row.insert(105);
  assert.deepEqual([row.lookup(104), row.lookup(101), row.lookup(102)], [false, true, true]);
  // Drive a to 15 → everything halves: a 15→7, b 2→1, e 0→0 … then e is evicted.
  for (let i = 0; i < 11; i++) row.lookup(101);
  row.insert(106);
  assert.equal(row.lookup(105), false);
  assert.equal(row.lookup(101), true);
  // All tied at 0: the first rand() of srand(1) (1804289383) % 3 = 1 picks the second key in libstdc++'s
  // unordered_map iteration order (12, 11, 10: each key heads its own bucket, newest first).
  const t = new LfuRow(3, new GlibcRandom(1));
  t.insert(10), t.insert(11), t.insert(12);
  t.insert(13);
  assert.deepEqual([t.lookup(10), t.lookup(11), t.lookup(12)], [true, false, true]);
});

Deno.test("oracle row: evicts the entry whose next access is furthest; a hit refreshes it", () => {
  const row = new OracleRow(2);
  row.insert(201, 10);
  row.insert(202, 5);
  assert.equal(row.insert(203, 7), true); // x (10) goes
  assert.deepEqual([row.lookup(201, 0), row.lookup(202, 100)], [false, true]); // y now next used at 100
  row.insert(204, Infinity); // evicts y (100 > 7)
  assert.deepEqual([row.lookup(202, 1), row.lookup(203, 8)], [false, true]);
});

Deno.test("cache: set index from address bits and DID groups; counts only allocating accesses", () => {
  const c = new Cache("IOTLB", { size: 64, assoc: 8, groups: 2 }, "lru", new GlibcRandom(1));
  assert.equal(c.sets, 8);
  // 8 sets, 2 groups: index = (did & 1) << 2 | (bits & 3)
  assert.equal(c.index(5, 0), 1);
  assert.equal(c.index(5, 1), 5);
  assert.equal(c.index(2, 3), 6);
  assert.equal(c.translate(1, 0, 300, 0, false), false); // lookup only: not counted
  assert.equal(c.translate(1, 0, 300, 0, true), false); // miss, allocates
  assert.equal(c.translate(1, 0, 300, 0, true), true); // hit
  for (let i = 0; i < 9; i++) c.translate(1, 0, 310 + i, 0, true); // 9 more keys into one 8-way set
  const s = c.stats();
  assert.deepEqual([s.hit, s.miss, s.conflict, s.domains], [1, 10, 2, 1]);
  assert.equal(s.setAccesses[1], 11);
  const none = new Cache("L2PAGE", { size: 0, assoc: 0, groups: 1 }, "lru", new GlibcRandom(1));
  assert.equal(none.translate(0, 0, 1, 0, true), false);
  assert.deepEqual(none.stats().setAccesses, []);
  // Non-power-of-two set counts index with floor(log2(sets)) bits, as the reference does.
  const odd = new Cache("X", { size: 48, assoc: 8, groups: 1 }, "lru", new GlibcRandom(1));
  assert.equal(odd.sets, 6);
  assert.equal(odd.index(7, 0), 3);
  // Static partitioning: only cacheable DIDs allocate.
  c.cacheable = new Set([0]);
  assert.equal(c.isCacheable(1), false);
});

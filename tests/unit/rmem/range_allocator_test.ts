import assert from "node:assert/strict";
import { RangeAllocator } from "../../../lib/rmem/mod.ts";

Deno.test("range allocator: first fit, coalescing free, fragmentation stats", () => {
  const a = new RangeAllocator(10);
  assert.equal(a.alloc(3), 0);
  assert.equal(a.alloc(3), 3);
  assert.equal(a.alloc(3), 6);
  assert.equal(a.alloc(2), -1, "only one unit left");
  a.free(3, 3);
  assert.deepEqual(a.stats(), { total: 10, free: 4, largestFree: 3, freeRuns: 2 });
  assert.equal(a.alloc(4), -1, "4 free units but fragmented");
  a.free(0, 3);
  assert.deepEqual(a.stats(), { total: 10, free: 7, largestFree: 6, freeRuns: 2 });
  a.free(6, 3);
  assert.deepEqual(a.stats(), { total: 10, free: 10, largestFree: 10, freeRuns: 1 });
  assert.equal(a.alloc(10), 0);
});

Deno.test("range allocator: double free and out-of-range free are refused", () => {
  const a = new RangeAllocator(8);
  const at = a.alloc(4);
  a.free(at, 4);
  assert.throws(() => a.free(at, 4), /double free/);
  assert.throws(() => a.free(6, 4), /out of range/);
  assert.equal(a.alloc(0), -1);
});

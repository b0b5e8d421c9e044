import assert from "node:assert/strict";
import { MemoryPool, POOL_BASE } from "../../../lib/rmem/pool.ts";
import { Status } from "../../../lib/rmem/mod.ts";

Deno.test("memory pool: grants page-aligned slices with distinct rkeys and checks every access", () => {
  const pool = new MemoryPool(64 * 1024, 4096);
  const a = pool.grant(5000n);
  const b = pool.grant(4096n);
  assert.ok(!("status" in a) && !("status" in b));
  if ("status" in a || "status" in b) return;
  assert.equal(a.base, POOL_BASE);
  assert.equal(a.len, 8192n, "rounded up to pages");
  assert.equal(b.base, POOL_BASE + 8192n);
  assert.notEqual(a.rkey, b.rkey);
  assert.equal(pool.locate(a.rkey, a.base + 100n, 8092), 100);
  const oob = pool.locate(a.rkey, a.base + 100n, 8093);
  assert.equal(typeof oob === "object" && oob.status, Status.OUT_OF_BOUNDS);
  const below = pool.locate(b.rkey, a.base, 1);
  assert.equal(typeof below === "object" && below.status, Status.OUT_OF_BOUNDS, "b's key cannot reach a's slice");
  for (const huge of [1n << 53n, (1n << 53n) + a.base, (1n << 64n) - 1n]) {
    const far = pool.locate(a.rkey, huge, 1);
    assert.equal(typeof far === "object" && far.status, Status.OUT_OF_BOUNDS, `0x${huge.toString(16)} is far out`);
  }
  const last = pool.locate(a.rkey, a.base + 8191n, 1);
  assert.equal(last, 8191, "the last byte of the slice is in bounds");
  const badKey = pool.locate(12345, a.base, 1);
  assert.equal(typeof badKey === "object" && badKey.status, Status.BAD_RKEY);
});

Deno.test("memory pool: exhaustion says how much is free; release zeroes written bytes and frees pages", () => {
  const pool = new MemoryPool(16 * 1024, 4096);
  const a = pool.grant(12n * 1024n);
  if ("status" in a) throw new Error("grant failed");
  const no = pool.grant(8192n);
  assert.ok("status" in no && no.status === Status.POOL_EXHAUSTED);
  assert.match((no as { message: string }).message, /1 of 4 pages free/);
  const at = pool.locate(a.rkey, a.base, 4, true) as number;
  pool.bytes.set([1, 2, 3, 4], at);
  pool.release(a.rkey);
  assert.deepEqual([...pool.bytes.subarray(0, 4)], [0, 0, 0, 0]);
  assert.equal(pool.stats().free, 4);
  const z = pool.grant(0n);
  assert.ok("status" in z && z.status === Status.PROTOCOL);
});

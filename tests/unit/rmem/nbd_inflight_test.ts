import assert from "node:assert/strict";
import { Inflight } from "../../../lib/nbd/inflight.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("nbd inflight: FLUSH waits for the requests in flight when it came, callback and promise ones, not later ones", async () => {
  const f = new Inflight();
  const a = f.start(), b = f.start();
  let release!: () => void;
  const p = new Promise<void>((r) => release = r);
  f.add(p);
  let flushed = false;
  f.settled().then(() => flushed = true);
  const later = f.start(); // after the FLUSH: not waited for
  assert.equal(f.size, 4);
  f.end(a);
  await tick();
  assert.equal(flushed, false);
  f.end(b);
  release();
  f.remove(p);
  await tick();
  assert.equal(flushed, true, "settled once a, b and p completed, with `later` still running");
  assert.equal(f.size, 1);
  let idle = false;
  f.idle().then(() => idle = true);
  await tick();
  assert.equal(idle, false);
  f.end(later);
  await tick();
  assert.equal(idle, true);
});

Deno.test("nbd inflight: next() resolves at any completion, at once when nothing is in flight", async () => {
  const f = new Inflight();
  await f.next();
  const t = f.start();
  let woke = false;
  f.next().then(() => woke = true);
  await tick();
  assert.equal(woke, false);
  f.end(t);
  await tick();
  assert.equal(woke, true);
  const failing = Promise.reject(new Error("x"));
  f.add(failing);
  await f.next(); // a rejected request counts as a completion, not an error of the waiter
  f.remove(failing);
  assert.equal(f.size, 0);
  await f.settled();
});

/** Our libxenstore shim (ffi/xenstore.c) against the embedded xenstored: the lib's client contract. */
import assert from "node:assert/strict";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { LibXenstoreClient, withTransaction } from "../../../lib/xenstore/mod.ts";
import { needPath, skipIf } from "../../_helpers.ts";
import { startDaemon } from "./_daemon.ts";

const ignore = skipIf(needPath("/usr/include/xenstore.h", "libxen-dev (xenstore.h)"));

Deno.test({ name: "libxenstore client: read/write/mkdir/rm/list; not found is undefined", ignore }, async () => {
  await using f = await startDaemon();
  await using xs = await LibXenstoreClient.open(f.socket);
  assert.equal(await xs.read("/a/b"), undefined);
  assert.equal(await xs.list("/a"), undefined);
  assert.equal(await xs.getPerms("/a"), undefined);
  await xs.write("/a/b", "v1");
  await xs.mkdir("/a/empty");
  assert.equal(await xs.read("/a/b"), "v1");
  assert.equal(await xs.read("/a/empty"), "");
  assert.deepEqual(await xs.list("/a"), ["b", "empty"]);
  assert.deepEqual(await xs.list("/a/empty"), []);
  const bin = new Uint8Array([0, 1, 2, 255]);
  await xs.write("/a/bin", bin);
  assert.deepEqual(await xs.readBytes("/a/bin"), bin);
  await xs.rm("/a");
  assert.equal(await xs.read("/a/b"), undefined);
  await assert.rejects(xs.write("/bad//path", "x"), (e) => e instanceof ErrnoError && e.errnoName === "EINVAL");
});

Deno.test({ name: "libxenstore client: permissions round-trip through libxenstore", ignore }, async () => {
  await using f = await startDaemon();
  await using xs = await LibXenstoreClient.open(f.socket);
  await xs.write("/p", "1");
  assert.deepEqual(await xs.getPerms("/p"), [{ id: 0, access: "n" }]);
  await xs.setPerms("/p", [{ id: 0, access: "b" }, { id: 7, access: "r" }]);
  assert.deepEqual(await xs.getPerms("/p"), [{ id: 0, access: "b" }, { id: 7, access: "r" }]);
  await xs.write("/p/child", "c");
  assert.deepEqual(await xs.getPerms("/p/child"), [{ id: 0, access: "b" }, { id: 7, access: "r" }], "inherited");
});

Deno.test(
  { name: "libxenstore client: watch gives the initial event, subtree events and times out", ignore },
  async () => {
    await using f = await startDaemon();
    await using xs = await LibXenstoreClient.open(f.socket);
    await xs.watch("/w", "tok1");
    assert.deepEqual(await xs.nextEvent(2000), { path: "/w", token: "tok1" });
    await xs.write("/w/x/y", "1");
    assert.deepEqual(await xs.nextEvent(2000), { path: "/w/x/y", token: "tok1" });
    await xs.write("/other", "1");
    const t0 = performance.now();
    assert.equal(await xs.nextEvent(150), undefined);
    assert.ok(performance.now() - t0 >= 140);
    await xs.unwatch("/w", "tok1");
    await xs.write("/w/z", "1");
    assert.equal(await xs.nextEvent(100), undefined);
  },
);

Deno.test({ name: "libxenstore client: conflicting commit is EAGAIN; withTransaction retries", ignore }, async () => {
  await using f = await startDaemon();
  await using a = await LibXenstoreClient.open(f.socket);
  await using b = await LibXenstoreClient.open(f.socket);
  await a.write("/counter", "0");
  const tx = await a.transactionStart();
  assert.equal(await a.read("/counter", { tx }), "0");
  await a.write("/counter", "1", { tx });
  assert.equal(await b.read("/counter"), "0", "not visible before commit");
  await b.write("/counter", "10");
  await assert.rejects(a.transactionEnd(tx, true), (e) => e instanceof ErrnoError && e.errnoName === "EAGAIN");
  assert.equal(await a.read("/counter"), "10");

  let attempts = 0;
  await withTransaction(a, async (tx) => {
    attempts++;
    const v = Number(await a.read("/counter", { tx }));
    if (attempts === 1) await b.write("/counter", String(v + 100)); // concurrent change forces one retry
    await a.write("/counter", String(v + 1), { tx });
  });
  assert.equal(attempts, 2);
  assert.equal(await a.read("/counter"), "111");
});

Deno.test({ name: "libxenstore client: large directories use DIRECTORY_PART transparently", ignore }, async () => {
  await using f = await startDaemon();
  await using xs = await LibXenstoreClient.open(f.socket);
  const names = Array.from({ length: 400 }, (_, i) => `child-number-${String(i).padStart(4, "0")}`);
  await withTransaction(xs, async (tx) => {
    for (const n of names) await xs.write(`/big/${n}`, "", { tx });
  });
  assert.deepEqual(await xs.list("/big"), names);
  const byType = f.daemon.stats().requestsByType;
  assert.ok((byType.DIRECTORY_PART ?? 0) >= 3, `DIRECTORY_PART used: ${JSON.stringify(byType)}`);
});

Deno.test({ name: "libxenstore client: no daemon is one MissingError naming the socket", ignore }, async () => {
  await assert.rejects(LibXenstoreClient.open("/nonexistent/xenstored.sock"), /\/nonexistent\/xenstored\.sock/);
});

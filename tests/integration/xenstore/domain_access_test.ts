/**
 * Unprivileged domains on the embedded xenstored (a per-domain socket stands in for the guest's ring): relative
 * paths, permission checks, ownership of created nodes, quotas, special watches. Uses the pure-TS wire client.
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { XsWireClient } from "../../../lib/xenstore/mod.ts";
import { nulStrings } from "../../../lib/xenstore/wire.ts";
import { startDaemon } from "./_daemon.ts";

const isErr = (name: string) => (e: unknown) => e instanceof ErrnoError && e.errnoName === name;

Deno.test("domain socket: relative paths resolve under /local/domain/<id>; permissions apply", async () => {
  await using f = await startDaemon();
  await f.daemon.listenDomain(5, `${f.dir}/dom5.sock`);
  await using dom0 = await XsWireClient.connect(f.socket);
  await using guest = await XsWireClient.connect(`${f.dir}/dom5.sock`);
  await dom0.write("/local/domain/5/name", "g5");
  await assert.rejects(guest.read("name"), isErr("EACCES"), "dom0-owned n0 node");
  await dom0.setPerms("/local/domain/5", [{ id: 5, access: "n" }]);
  await dom0.setPerms("/local/domain/5/name", [{ id: 0, access: "n" }, { id: 5, access: "r" }]);
  assert.equal(await guest.read("name"), "g5");
  await assert.rejects(guest.write("name", "x"), isErr("EACCES"));
  await guest.write("data/x", "1");
  assert.equal(await dom0.read("/local/domain/5/data/x"), "1");
  assert.deepEqual(
    await dom0.getPerms("/local/domain/5/data/x"),
    [{ id: 5, access: "n" }],
    "guest owns what it creates",
  );
  assert.equal(await guest.read("missing"), undefined, "ENOENT under a readable parent");
  await assert.rejects(guest.read("/local/domain/0/secret"), isErr("EACCES"), "unreadable ancestor hides existence");
  await assert.rejects(guest.setPerms("data/x", [{ id: 6, access: "b" }]), isErr("EPERM"), "cannot give away");
});

Deno.test("domain socket: b permission lets the guest reset a dom0-owned flag (Virtflex's chmod)", async () => {
  await using f = await startDaemon();
  await f.daemon.listenDomain(3, `${f.dir}/dom3.sock`);
  await using dom0 = await XsWireClient.connect(f.socket);
  await using guest = await XsWireClient.connect(`${f.dir}/dom3.sock`);
  await dom0.write("/local/domain/3/numa/topo_change", "1");
  await assert.rejects(guest.write("numa/topo_change", "0"), isErr("EACCES"));
  await dom0.setPerms("/local/domain/3/numa/topo_change", [{ id: 0, access: "b" }]);
  await guest.write("numa/topo_change", "0");
  assert.equal(await dom0.read("/local/domain/3/numa/topo_change"), "0");
});

Deno.test("domain socket: quotas on value size, node count, watches and transactions", async () => {
  await using f = await startDaemon({
    maxEntrySize: 64,
    maxNodesPerDomain: 5,
    maxWatchesPerDomain: 2,
    maxTransactionsPerDomain: 1,
  });
  await f.daemon.listenDomain(4, `${f.dir}/dom4.sock`);
  await using dom0 = await XsWireClient.connect(f.socket);
  await dom0.mkdir("/local/domain/4");
  await dom0.setPerms("/local/domain/4", [{ id: 4, access: "n" }]);
  await using guest = await XsWireClient.connect(`${f.dir}/dom4.sock`);
  await assert.rejects(guest.write("v", "x".repeat(65)), isErr("ENOSPC"));
  await guest.write("v", "x".repeat(64));
  await dom0.write("/big", "x".repeat(3000)); // dom0 is exempt
  for (let i = 0; i < 3; i++) await guest.write(`n${i}`, "1");
  await assert.rejects(guest.write("n3/deeper", "1"), isErr("ENOSPC"));
  await guest.watch("v", "a");
  await guest.watch("v", "b");
  await assert.rejects(guest.watch("v", "c"), isErr("E2BIG"));
  await assert.rejects(guest.watch("v", "a"), isErr("EEXIST"));
  await guest.transactionStart();
  await assert.rejects(guest.transactionStart(), isErr("ENOSPC"));
  await assert.rejects(guest.request(8, nulStrings("9", "1", "2")), isErr("EACCES"), "INTRODUCE");
});

Deno.test("watches: relative paths are reported relative; removal fires watches below; specials fire", async () => {
  await using f = await startDaemon();
  await f.daemon.listenDomain(2, `${f.dir}/dom2.sock`);
  await using dom0 = await XsWireClient.connect(f.socket);
  await dom0.mkdir("/local/domain/2");
  await dom0.setPerms("/local/domain/2", [{ id: 2, access: "n" }]);
  await using guest = await XsWireClient.connect(`${f.dir}/dom2.sock`);
  await guest.watch("memory/target", "t");
  assert.deepEqual(await guest.nextEvent(1000), { path: "memory/target", token: "t" });
  await dom0.write("/local/domain/2/memory/target", "1024");
  assert.deepEqual(await guest.nextEvent(1000), { path: "memory/target", token: "t" });
  await dom0.rm("/local/domain/2/memory");
  assert.deepEqual(await guest.nextEvent(1000), { path: "memory/target", token: "t" }, "watch below a removed node");

  await dom0.watch("@introduceDomain", "in");
  await dom0.watch("@releaseDomain", "out");
  assert.equal((await dom0.nextEvent(1000))?.path, "@introduceDomain");
  assert.equal((await dom0.nextEvent(1000))?.path, "@releaseDomain");
  await dom0.request(8, nulStrings("9", "1234", "5"));
  assert.deepEqual(await dom0.nextEvent(1000), { path: "@introduceDomain", token: "in" });
  assert.equal(new TextDecoder().decode(await dom0.request(17, nulStrings("9"))), "T\0");
  await dom0.request(9, nulStrings("9"));
  assert.deepEqual(await dom0.nextEvent(1000), { path: "@releaseDomain", token: "out" });
  assert.equal(new TextDecoder().decode(await dom0.request(17, nulStrings("9"))), "F\0");
  assert.equal(await dom0.domainPath(9), "/local/domain/9");
});

Deno.test("transactions: reads see own writes; abort discards; unknown id is ENOENT", async () => {
  await using f = await startDaemon();
  await using c = await XsWireClient.connect(f.socket);
  const tx = await c.transactionStart();
  await c.write("/t/a", "1", { tx });
  assert.equal(await c.read("/t/a", { tx }), "1");
  assert.deepEqual(await c.list("/t", { tx }), ["a"]);
  assert.equal(await c.read("/t/a"), undefined);
  await c.transactionEnd(tx, false);
  assert.equal(await c.read("/t/a"), undefined);
  await assert.rejects(c.write("/t", "x", { tx: 999 }), isErr("ENOENT"));
  await assert.rejects(c.transactionEnd(999, true), isErr("ENOENT"));
});

Deno.test("CONTROL: dom0 may ask for help and quotas; a domain may not", async () => {
  await using f = await startDaemon();
  await f.daemon.listenDomain(6, `${f.dir}/dom6.sock`);
  await using dom0 = await XsWireClient.connect(f.socket);
  await using guest = await XsWireClient.connect(`${f.dir}/dom6.sock`);
  const help = new TextDecoder().decode(await dom0.request(0, nulStrings("help")));
  assert.match(help, /print/);
  assert.match(new TextDecoder().decode(await dom0.request(0, nulStrings("quota"))), /maxEntrySize: 2048/);
  await assert.rejects(dom0.request(0, nulStrings("live-update")), isErr("EINVAL"));
  await assert.rejects(guest.request(0, nulStrings("help")), isErr("EACCES"));
  assert.equal(new TextDecoder().decode(await dom0.request(21, nulStrings(""))), "OK\0", "RESET_WATCHES");
});

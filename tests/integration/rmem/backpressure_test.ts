/** A client that pipelines requests but never reads replies is paused, not buffered without bound. */
import assert from "node:assert/strict";
import { Cmd, NbdServer, RmemBlockDevice } from "../../../lib/nbd/mod.ts";
import { RmemClient, RmemServer } from "../../../lib/rmem/mod.ts";
import { decodeGrant, encodeRequest, Op, REP_HEADER, REQ_HEADER } from "../../../lib/rmem/wire.ts";
import { openExport, request } from "./_nbd_raw.ts";
import { RawConn } from "./_raw.ts";

const settle = () => new Promise((r) => setTimeout(r, 300));

Deno.test("backpressure: the rmem server stops serving a connection whose replies pile up unread", async () => {
  await using server = RmemServer.start({ poolBytes: 4 << 20 });
  using slow = await RawConn.open(server.endpoint);
  const hello = new Uint8Array(REQ_HEADER);
  encodeRequest(hello, 0, Op.HELLO, 1, 0, 1n << 20n, 0);
  await slow.send(hello);
  const h = (await slow.recv(REP_HEADER + 24))!;
  const g = decodeGrant(h.subarray(REP_HEADER));
  const burst = new Uint8Array(REQ_HEADER * 300);
  for (let i = 0; i < 300; i++) encodeRequest(burst, i * REQ_HEADER, Op.READ, i + 2, g.rkey, g.base, 1 << 20);
  await slow.send(burst);
  await settle();
  const served = server.stats().requests;
  assert.ok(served < 100, `served ${served} of 300 one-MiB reads nobody reads`);
  await using other = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 1 << 20 });
  const r = other.alloc(4096);
  await other.write(r, 0, new Uint8Array(4096).fill(1));
  assert.equal((await other.read(r))[0], 1, "other clients are served meanwhile");
});

Deno.test("backpressure: the NBD server bounds requests in flight and unread replies per connection", async () => {
  await using rs = RmemServer.start({ poolBytes: 8 << 20 });
  await using client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 8 << 20 });
  await using nbd = NbdServer.start({ exports: { d: new RmemBlockDevice(client, 4 << 20) } });
  using slow = await openExport(`127.0.0.1:${nbd.port}`, "d");
  const burst = new Uint8Array(28 * 2000);
  for (let i = 0; i < 2000; i++) burst.set(request(Cmd.READ, BigInt(i), 0n, 1 << 20), i * 28);
  await slow.send(burst);
  await settle();
  const served = nbd.stats().requests;
  assert.ok(served < 400, `accepted ${served} of 2000 one-MiB reads nobody reads`);
  using fresh = await openExport(`127.0.0.1:${nbd.port}`, "d");
  await fresh.send(request(Cmd.READ, 7n, 0n, 4096));
  const head = (await fresh.recv(16))!;
  assert.equal(new DataView(head.buffer).getUint32(4), 0, "other connections are served meanwhile");
});

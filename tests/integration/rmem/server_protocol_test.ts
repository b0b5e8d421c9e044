/** The memory server against raw frames: grants, rkey and bounds checks, error replies, pool exhaustion. */
import assert from "node:assert/strict";
import { RmemServer, Status } from "../../../lib/rmem/mod.ts";
import {
  decodeGrant,
  decodeReply,
  encodeRequest,
  GRANT_BYTES,
  MAX_IO,
  Op,
  REP_HEADER,
  REQ_HEADER,
} from "../../../lib/rmem/wire.ts";
import { RawConn } from "./_raw.ts";

function req(op: number, id: number, rkey: number, addr: bigint, len: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(REQ_HEADER + (payload?.length ?? 0));
  encodeRequest(out, 0, op, id, rkey, addr, len);
  if (payload) out.set(payload, REQ_HEADER);
  return out;
}

async function reply(c: RawConn) {
  const h = await c.recv(REP_HEADER);
  assert.ok(h, "server closed instead of replying");
  const r = decodeReply(h, 0);
  const body = r.len ? (await c.recv(r.len))! : new Uint8Array(0);
  return { ...r, body, text: new TextDecoder().decode(body) };
}

Deno.test("rmem server: HELLO grant, write/read, rkey and bounds errors, pool exhaustion", async () => {
  await using server = RmemServer.start({ poolBytes: 1 << 20 });
  using c = await RawConn.open(server.endpoint);
  await c.send(req(Op.HELLO, 1, 0, 600_000n, 0));
  const hello = await reply(c);
  assert.equal(hello.status, Status.OK);
  assert.equal(hello.body.length, GRANT_BYTES);
  const g = decodeGrant(hello.body);
  assert.equal(g.len, 602112n, "rounded up to 4 KiB pages");

  const data = new Uint8Array(4096).map((_, i) => i * 7);
  // pipelined: write then read in one send, replies in order with their ids
  await c.send(
    new Uint8Array([
      ...req(Op.WRITE, 2, g.rkey, g.base + 4096n, 4096, data),
      ...req(Op.READ, 3, g.rkey, g.base + 4096n, 4096),
    ]),
  );
  const w = await reply(c);
  assert.deepEqual([w.status, w.id, w.len], [Status.OK, 2, 0]);
  const r = await reply(c);
  assert.deepEqual([r.status, r.id], [Status.OK, 3]);
  assert.deepEqual(r.body, data);

  await c.send(req(Op.READ, 4, g.rkey ^ 1, g.base, 16));
  const badKey = await reply(c);
  assert.deepEqual([badKey.status, badKey.id], [Status.BAD_RKEY, 4]);
  assert.match(badKey.text, /not a live grant/);

  await c.send(req(Op.READ, 5, g.rkey, g.base + g.len - 8n, 16));
  const oob = await reply(c);
  assert.equal(oob.status, Status.OUT_OF_BOUNDS);
  assert.match(oob.text, /outside the grant/);

  await c.send(req(Op.WRITE, 6, g.rkey, g.base - 4096n, 4, new Uint8Array(4)));
  assert.equal((await reply(c)).status, Status.OUT_OF_BOUNDS, "write below the grant");

  await c.send(req(Op.READ, 7, g.rkey, g.base, MAX_IO + 1));
  assert.equal((await reply(c)).status, Status.TOO_LARGE);

  await c.send(req(Op.HELLO, 8, 0, 4096n, 0));
  assert.equal((await reply(c)).status, Status.PROTOCOL, "second HELLO on one connection");

  using c2 = await RawConn.open(server.endpoint);
  await c2.send(req(Op.HELLO, 1, 0, 600_000n, 0));
  const full = await reply(c2);
  assert.equal(full.status, Status.POOL_EXHAUSTED);
  assert.match(full.text, /requested 600000 bytes .*pages free/);

  // the connection still works after every error reply
  await c.send(req(Op.READ, 9, g.rkey, g.base + 4096n, 4));
  assert.deepEqual((await reply(c)).body, data.subarray(0, 4));
});

Deno.test("rmem server: a closed connection releases its slice, zeroed, for the next client", async () => {
  await using server = RmemServer.start({ poolBytes: 64 * 1024 });
  let g;
  {
    using c = await RawConn.open(server.endpoint);
    await c.send(req(Op.HELLO, 1, 0, 64n * 1024n, 0));
    g = decodeGrant((await reply(c)).body);
    await c.send(req(Op.WRITE, 2, g.rkey, g.base, 4, new Uint8Array([9, 9, 9, 9])));
    assert.equal((await reply(c)).status, Status.OK);
  }
  const deadline = Date.now() + 3000;
  while (server.stats().grants > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.stats().grants, 0);
  using c = await RawConn.open(server.endpoint);
  await c.send(req(Op.HELLO, 1, 0, 64n * 1024n, 0));
  const g2 = decodeGrant((await reply(c)).body);
  assert.notEqual(g2.rkey, g.rkey);
  await c.send(req(Op.READ, 2, g.rkey, g.base, 4));
  assert.equal((await reply(c)).status, Status.BAD_RKEY, "the old rkey is dead");
  await c.send(req(Op.READ, 3, g2.rkey, g2.base, 4));
  assert.deepEqual([...(await reply(c)).body], [0, 0, 0, 0], "no data leaks between clients");
});

Deno.test("rmem server: bad magic and oversized WRITE get an error reply, then the connection closes", async () => {
  await using server = RmemServer.start({ poolBytes: 64 * 1024 });
  {
    using c = await RawConn.open(server.endpoint);
    await c.send(new Uint8Array(REQ_HEADER).fill(0x41));
    const r = await reply(c);
    assert.equal(r.status, Status.BAD_MAGIC);
    assert.ok(await c.closedByPeer());
  }
  {
    using c = await RawConn.open(server.endpoint);
    await c.send(req(Op.WRITE, 5, 1, 0n, MAX_IO + 1));
    const r = await reply(c);
    assert.deepEqual([r.status, r.id], [Status.TOO_LARGE, 5]);
    assert.ok(await c.closedByPeer());
  }
  {
    using c = await RawConn.open(server.endpoint);
    await c.send(req(77, 6, 0, 0n, 0));
    assert.deepEqual((await reply(c)).status, Status.BAD_OP);
    const flags = req(Op.READ, 7, 0, 0n, 0);
    flags[5] = 1;
    await c.send(flags);
    assert.equal((await reply(c)).status, Status.PROTOCOL);
  }
  assert.equal(server.stats().connections <= 1, true);
});

/**
 * Fuzzing malformed rmem and NBD messages (bounded, seeded): the servers never crash or hang; every byte they send
 * back is a well-formed reply (error replies included) and then the connection ends; valid clients keep working.
 */
import assert from "node:assert/strict";
import { NbdServer, RmemBlockDevice } from "../../../lib/nbd/mod.ts";
import { IHAVEOPT, REPLY_MAGIC, SIMPLE_REPLY_MAGIC } from "../../../lib/nbd/protocol.ts";
import { RmemClient, RmemServer } from "../../../lib/rmem/mod.ts";
import { decodeReply, encodeRequest, Op, REP_HEADER, REP_MAGIC, REQ_HEADER } from "../../../lib/rmem/wire.ts";
import { goData, option, request } from "./_nbd_raw.ts";
import { bytes, exchange, int, length32, rng } from "./_fuzz.ts";

const ITERATIONS = 400;

function rmemFrame(r: () => number, rkey: number, base: bigint): Uint8Array {
  const kind = int(r, 4);
  if (kind === 0) return bytes(r, int(r, 80));
  const op = r() < 0.8 ? [Op.HELLO, Op.READ, Op.WRITE][int(r, 3)] : int(r, 256);
  const len = length32(r);
  const addr = r() < 0.5 ? base + BigInt(int(r, 1 << 22)) : BigInt(int(r, 2 ** 32)) << BigInt(int(r, 32));
  const key = r() < 0.6 ? rkey : int(r, 2 ** 32);
  const payload = op === Op.WRITE ? Math.min(len, int(r, 8192)) : int(r, 3) === 0 ? int(r, 64) : 0;
  const f = new Uint8Array(REQ_HEADER + payload);
  encodeRequest(f, 0, op, int(r, 2 ** 32), key, addr & 0xffffffffffffffffn, len);
  if (kind === 2) f[int(r, REQ_HEADER)] ^= 1 << int(r, 8); // one flipped bit anywhere in the header
  return f;
}

Deno.test("fuzz rmem server: malformed frames get error replies or a close, never a crash", async () => {
  await using server = RmemServer.start({ poolBytes: 8 << 20 });
  await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 4 << 20 });
  const region = client.alloc(4096);
  await client.write(region, 0, new Uint8Array(4096).fill(0x5a));
  const r = rng(0x12345);
  let replies = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const frames = Array.from({ length: 1 + int(r, 4) }, () => rmemFrame(r, region.remote_rkey, region.remote_addr));
    const data = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      data.set(f, at);
      at += f.length;
    }
    const got = await exchange(server.endpoint, data);
    let off = 0;
    while (off < got.length) {
      assert.ok(got.length - off >= REP_HEADER, `iteration ${it}: truncated reply`);
      const h = decodeReply(got, off);
      assert.equal(h.magic, REP_MAGIC, `iteration ${it}: reply magic`);
      off += REP_HEADER + h.len;
      assert.ok(off <= got.length, `iteration ${it}: reply body truncated`);
      replies++;
    }
  }
  console.log(`rmem fuzz: ${replies} replies, ${server.stats().errors} error replies`);
  assert.ok(replies > ITERATIONS, `servers answered (${replies} replies)`);
  assert.ok(server.stats().errors > 0);
  assert.ok((await client.read(region)).every((b) => b === 0x5a), "a valid client's data survived the fuzzing");
});

function nbdOption(r: () => number): Uint8Array {
  const kind = int(r, 5);
  if (kind === 0) return bytes(r, int(r, 40));
  const opt = r() < 0.7 ? [1, 2, 3, 5, 6, 7, 8, 9, 10][int(r, 9)] : int(r, 2 ** 32);
  const data = kind === 1 ? goData(r() < 0.5 ? "d" : "x", [int(r, 5)]) : bytes(r, int(r, 64));
  const f = option(opt, data);
  if (kind === 3) new DataView(f.buffer).setUint32(12, length32(r)); // lie about the length
  if (kind === 4) f[int(r, 16)] ^= 1 << int(r, 8);
  return f;
}

function parseOptionReplies(got: Uint8Array, it: number): number {
  // the greeting, then option replies; EXPORT_NAME/GO may end negotiation (then transmission bytes follow)
  assert.ok(got.length >= 18, `iteration ${it}: no greeting`);
  let off = 18;
  let n = 0;
  while (off + 20 <= got.length) {
    const v = new DataView(got.buffer, got.byteOffset + off);
    if (v.getBigUint64(0) !== REPLY_MAGIC) break;
    off += 20 + v.getUint32(16);
    n++;
  }
  return n;
}

Deno.test("fuzz nbd server: malformed negotiation and transmission messages never crash it", async () => {
  await using rs = RmemServer.start({ poolBytes: 8 << 20 });
  await using client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 8 << 20 });
  const dev = new RmemBlockDevice(client, 1 << 20);
  await using nbd = NbdServer.start({ exports: { d: dev } });
  const endpoint = `127.0.0.1:${nbd.port}`;
  await dev.write(0, new Uint8Array(4096).fill(0x42));
  const r = rng(0xbeef);
  let optionReplies = 0, simpleReplies = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const transmission = it % 2 === 1;
    const parts: Uint8Array[] = [new Uint8Array([0, 0, 0, r() < 0.9 ? 3 : int(r, 256)])];
    const reads = new Map<bigint, number>();
    if (!transmission) {
      for (let k = 0; k < 1 + int(r, 4); k++) parts.push(nbdOption(r));
    } else {
      parts.push(option(7, goData("d")));
      for (let k = 0; k < 1 + int(r, 6); k++) {
        const handle = BigInt(k + 1);
        const type = r() < 0.8 ? int(r, 7) : int(r, 65536);
        const len = length32(r);
        const off = r() < 0.5 ? BigInt(int(r, 1 << 20)) : BigInt(int(r, 2 ** 32)) << BigInt(int(r, 32));
        const payload = type === 1 ? bytes(r, Math.min(len, int(r, 8192))) : undefined;
        const f = request(type, handle, off & 0xffffffffffffffffn, len, payload, r() < 0.8 ? 0 : int(r, 65536));
        if (r() < 0.1) f[int(r, 4)] ^= 0xff; // bad magic
        if (type === 0) reads.set(handle, len);
        parts.push(f);
      }
      parts.push(bytes(r, int(r, 3) === 0 ? int(r, 40) : 0));
    }
    const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    const got = await exchange(endpoint, data);
    const v = new DataView(got.buffer);
    assert.equal(v.getBigUint64(8), IHAVEOPT, `iteration ${it}: greeting`);
    if (!transmission) {
      optionReplies += parseOptionReplies(got, it);
      continue;
    }
    // greeting, GO replies (INFO + ACK), then simple replies
    let off = 18;
    while (off + 20 <= got.length && v.getBigUint64(off) === REPLY_MAGIC) off += 20 + v.getUint32(off + 16);
    while (off < got.length) {
      assert.ok(off + 16 <= got.length, `iteration ${it}: truncated simple reply`);
      assert.equal(v.getUint32(off), SIMPLE_REPLY_MAGIC, `iteration ${it}: simple reply magic`);
      const error = v.getUint32(off + 4);
      const handle = v.getBigUint64(off + 8);
      off += 16;
      if (error === 0 && reads.has(handle)) off += reads.get(handle)!;
      simpleReplies++;
    }
    assert.equal(off, got.length, `iteration ${it}: reply stream ends on a boundary`);
  }
  console.log(`nbd fuzz: ${optionReplies} option replies, ${simpleReplies} simple replies`);
  assert.ok(optionReplies > 20 && simpleReplies > 20, `replies: ${optionReplies} option, ${simpleReplies} simple`);
  assert.ok((await dev.read(0, 4096)).every((b) => b === 0x42), "served data survived the fuzzing");
  assert.equal(nbd.stats().connections, 0, "every fuzz connection was closed");
});

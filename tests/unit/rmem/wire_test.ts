import assert from "node:assert/strict";
import {
  decodeGrant,
  decodeQpInfo,
  decodeReply,
  decodeRequest,
  encodeGrant,
  encodeQpInfo,
  encodeReply,
  encodeRequest,
  Op,
  putReply,
  putRequest,
  readRequest,
  REP_HEADER,
  REQ_HEADER,
  REQ_MAGIC,
  statusName,
} from "../../../lib/rmem/wire.ts";

Deno.test("rmem wire: request, reply and grant round-trip little-endian", () => {
  const buf = new Uint8Array(REQ_HEADER + 4);
  encodeRequest(buf, 4, Op.WRITE, 0xdeadbeef, 0x1234, 0x10_0000_1000n, 4096);
  const h = decodeRequest(buf, 4);
  assert.deepEqual(h, {
    magic: REQ_MAGIC,
    op: Op.WRITE,
    flags: 0,
    reserved: 0,
    id: 0xdeadbeef,
    rkey: 0x1234,
    addr: 0x10_0000_1000n,
    len: 4096,
  });
  assert.equal(buf[4], 0x4d, "magic is little-endian");
  const rep = new Uint8Array(REP_HEADER);
  encodeReply(rep, 0, 3, 7, 12);
  assert.deepEqual(decodeReply(rep, 0), { magic: 0x524d5250, status: 3, id: 7, len: 12 });
  const g = { base: 0x10_0000_0000n, len: 1n << 33n, rkey: 99, pageSize: 4096 };
  assert.deepEqual(decodeGrant(encodeGrant(g)), g);
  assert.equal(statusName(3), "OUT_OF_BOUNDS");
  assert.equal(statusName(200), "STATUS_200");
});

Deno.test("rmem wire: queue-pair info round-trips, with and without a GID", () => {
  const gid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  assert.deepEqual(decodeQpInfo(encodeQpInfo({ qpn: 0x123456, psn: 0xabcdef, lid: 7, gid })), {
    qpn: 0x123456,
    psn: 0xabcdef,
    lid: 7,
    gid,
  });
  assert.deepEqual(decodeQpInfo(encodeQpInfo({ qpn: 1, psn: 2, lid: 3 })), { qpn: 1, psn: 2, lid: 3 });
});

Deno.test("rmem wire: the DataView encoders write the same bytes as the plain ones, and read them back", () => {
  const plain = new Uint8Array(8 + REQ_HEADER), fast = new Uint8Array(8 + REQ_HEADER);
  encodeRequest(plain, 8, Op.READ, 0xfffffffe, 0xabcdef01, 0x1f_ffff_ffffn, 1 << 20);
  putRequest(new DataView(fast.buffer), 8, Op.READ, 0xfffffffe, 0xabcdef01, 0x1f_ffff_ffffn, 1 << 20);
  assert.deepEqual(fast, plain);
  const scratch = { magic: 0, op: 0, flags: 9, reserved: 9, id: 0, rkey: 0, addr: 0n, len: 0 };
  assert.deepEqual(readRequest(new DataView(fast.buffer), 8, scratch), decodeRequest(plain, 8));
  fast[8 + 5] = 1; // flags
  fast[8 + 30] = 1; // reserved tail
  const bad = readRequest(new DataView(fast.buffer), 8, scratch);
  assert.equal(bad.flags, 1);
  assert.notEqual(bad.reserved, 0, "a non-zero reserved field is seen, so the server can refuse it");
  const repPlain = new Uint8Array(REP_HEADER + 3), repFast = new Uint8Array(REP_HEADER + 3);
  encodeReply(repPlain, 3, 5, 0x80000001, 77);
  putReply(new DataView(repFast.buffer), 3, 5, 0x80000001, 77);
  assert.deepEqual(repFast, repPlain);
});

/**
 * The rmem wire format, shared by every transport. All integers are little-endian.
 *
 * Request (32-byte header, then `len` payload bytes for WRITE only):
 * `magic u32 | op u8 | flags u8 | reserved u16 | id u32 | rkey u32 | addr u64 | len u32 | reserved u32`.
 * HELLO carries the requested pool bytes in `addr`. VERBS_CONNECT carries the client's queue-pair info
 * ({@link QP_INFO_BYTES} bytes) and is answered with the server's, after which the frames flow over RDMA.
 *
 * Reply (16-byte header, then `len` payload bytes):
 * `magic u32 | status u16 | reserved u16 | id u32 | len u32`. The payload is the data of a READ, the grant of a
 * HELLO ({@link GRANT_BYTES} bytes) or a UTF-8 error message when `status` is not OK.
 * @module
 */

/** Magic of a request header ("RMEM" read as little-endian bytes `M E M R`). */
export const REQ_MAGIC = 0x524d454d;
/** Magic of a reply header. */
export const REP_MAGIC = 0x524d5250;
/** Size of a request header. */
export const REQ_HEADER = 32;
/** Size of a reply header. */
export const REP_HEADER = 16;
/** Largest READ or WRITE one request may carry; bigger requests get TOO_LARGE. */
export const MAX_IO = 1 << 20;
/** Size of the grant payload of a HELLO reply: base u64, len u64, rkey u32, page size u32. */
export const GRANT_BYTES = 24;

/** Request operations. */
export const Op = { HELLO: 1, READ: 2, WRITE: 3, VERBS_CONNECT: 4 } as const;
/** One request operation. */
export type OpCode = typeof Op[keyof typeof Op];

/** Reply statuses. */
export const Status = {
  OK: 0,
  BAD_MAGIC: 1,
  BAD_OP: 2,
  OUT_OF_BOUNDS: 3,
  BAD_RKEY: 4,
  TOO_LARGE: 5,
  POOL_EXHAUSTED: 6,
  PROTOCOL: 7,
  VERBS_UNAVAILABLE: 8,
} as const;

/** Size of the queue-pair info VERBS_CONNECT exchanges: qpn u32, psn u32, lid u32, flags u32, gid[16]. */
export const QP_INFO_BYTES = 32;

/** What a peer needs to connect an RC queue pair. */
export interface QpInfo {
  qpn: number;
  psn: number;
  lid: number;
  /** Present on RoCE (flags bit 0). */
  gid?: Uint8Array;
}

/** Encodes queue-pair info. */
export function encodeQpInfo(q: QpInfo): Uint8Array {
  const out = new Uint8Array(QP_INFO_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, q.qpn, true);
  v.setUint32(4, q.psn, true);
  v.setUint32(8, q.lid, true);
  v.setUint32(12, q.gid ? 1 : 0, true);
  if (q.gid) out.set(q.gid.subarray(0, 16), 16);
  return out;
}

/** Decodes queue-pair info. */
export function decodeQpInfo(b: Uint8Array): QpInfo {
  const v = new DataView(b.buffer, b.byteOffset, QP_INFO_BYTES);
  const info: QpInfo = { qpn: v.getUint32(0, true), psn: v.getUint32(4, true), lid: v.getUint32(8, true) };
  if (v.getUint32(12, true) & 1) info.gid = b.slice(16, 32);
  return info;
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));

/** Name of a status code, e.g. 3 → `OUT_OF_BOUNDS`. */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `STATUS_${status}`;
}

/** A decoded request header. */
export interface RequestHeader {
  magic: number;
  op: number;
  flags: number;
  reserved: number;
  id: number;
  rkey: number;
  addr: bigint;
  len: number;
}

/** A decoded reply header. */
export interface ReplyHeader {
  magic: number;
  status: number;
  id: number;
  len: number;
}

/** The pool slice a server grants at HELLO. */
export interface Grant {
  /** First remote address of the slice. */
  base: bigint;
  /** Length of the slice in bytes. */
  len: bigint;
  /** Key every request on the slice must carry. */
  rkey: number;
  /** Allocation granularity the client should use. */
  pageSize: number;
}

/** Writes a request header into `out` at `at`. */
export function encodeRequest(
  out: Uint8Array,
  at: number,
  op: number,
  id: number,
  rkey: number,
  addr: bigint,
  len: number,
): void {
  const v = new DataView(out.buffer, out.byteOffset + at, REQ_HEADER);
  v.setUint32(0, REQ_MAGIC, true);
  v.setUint8(4, op);
  v.setUint8(5, 0);
  v.setUint16(6, 0, true);
  v.setUint32(8, id, true);
  v.setUint32(12, rkey, true);
  v.setBigUint64(16, addr, true);
  v.setUint32(24, len, true);
  v.setUint32(28, 0, true);
}

/** {@link encodeRequest} into a DataView of the whole buffer at byte `at` (no allocation per request). */
export function putRequest(
  v: DataView,
  at: number,
  op: number,
  id: number,
  rkey: number,
  addr: bigint,
  len: number,
): void {
  v.setUint32(at, REQ_MAGIC, true);
  v.setUint32(at + 4, op, true); // op u8, flags u8 and reserved u16 are 0
  v.setUint32(at + 8, id, true);
  v.setUint32(at + 12, rkey, true);
  v.setBigUint64(at + 16, addr, true);
  v.setUint32(at + 24, len, true);
  v.setUint32(at + 28, 0, true);
}

/** Reads a request header from `buf` at `at` (the caller ensures {@link REQ_HEADER} bytes are there). */
export function decodeRequest(buf: Uint8Array, at: number): RequestHeader {
  const v = new DataView(buf.buffer, buf.byteOffset + at, REQ_HEADER);
  return {
    magic: v.getUint32(0, true),
    op: v.getUint8(4),
    flags: v.getUint8(5),
    reserved: v.getUint16(6, true) | v.getUint32(28, true),
    id: v.getUint32(8, true),
    rkey: v.getUint32(12, true),
    addr: v.getBigUint64(16, true),
    len: v.getUint32(24, true),
  };
}

/**
 * {@link decodeRequest} from a DataView of the whole buffer at byte `at`, into `h` (no allocation but the
 * address).
 */
export function readRequest(v: DataView, at: number, h: RequestHeader): RequestHeader {
  h.magic = v.getUint32(at, true);
  h.op = v.getUint8(at + 4);
  h.flags = v.getUint8(at + 5);
  h.reserved = v.getUint16(at + 6, true) | v.getUint32(at + 28, true);
  h.id = v.getUint32(at + 8, true);
  h.rkey = v.getUint32(at + 12, true);
  h.addr = v.getBigUint64(at + 16, true);
  h.len = v.getUint32(at + 24, true);
  return h;
}

/** {@link encodeReply} into a DataView of the whole buffer at byte `at`. */
export function putReply(v: DataView, at: number, status: number, id: number, len: number): void {
  v.setUint32(at, REP_MAGIC, true);
  v.setUint32(at + 4, status, true); // status u16, reserved u16 = 0
  v.setUint32(at + 8, id, true);
  v.setUint32(at + 12, len, true);
}

/** Writes a reply header into `out` at `at`. */
export function encodeReply(out: Uint8Array, at: number, status: number, id: number, len: number): void {
  const v = new DataView(out.buffer, out.byteOffset + at, REP_HEADER);
  v.setUint32(0, REP_MAGIC, true);
  v.setUint16(4, status, true);
  v.setUint16(6, 0, true);
  v.setUint32(8, id, true);
  v.setUint32(12, len, true);
}

/** Reads a reply header from `buf` at `at`. */
export function decodeReply(buf: Uint8Array, at: number): ReplyHeader {
  const v = new DataView(buf.buffer, buf.byteOffset + at, REP_HEADER);
  return {
    magic: v.getUint32(0, true),
    status: v.getUint16(4, true),
    id: v.getUint32(8, true),
    len: v.getUint32(12, true),
  };
}

/** Encodes a grant as a HELLO reply payload. */
export function encodeGrant(g: Grant): Uint8Array {
  const out = new Uint8Array(GRANT_BYTES);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, g.base, true);
  v.setBigUint64(8, g.len, true);
  v.setUint32(16, g.rkey, true);
  v.setUint32(20, g.pageSize, true);
  return out;
}

/** Decodes a HELLO reply payload. */
export function decodeGrant(buf: Uint8Array): Grant {
  const v = new DataView(buf.buffer, buf.byteOffset, GRANT_BYTES);
  return {
    base: v.getBigUint64(0, true),
    len: v.getBigUint64(8, true),
    rkey: v.getUint32(16, true),
    pageSize: v.getUint32(20, true),
  };
}

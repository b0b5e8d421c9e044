/**
 * The xenstore wire protocol as Xen 4.17 defines it in `xen/io/xs_wire.h`: message types, the 16-byte
 * `struct xsd_sockmsg` header (type, req_id, tx_id, len; little-endian u32), NUL-separated string payloads,
 * the errno names used in XS_ERROR replies, and the protocol's size limits.
 * @module
 */

/** Message types (`enum xsd_sockmsg_type`). */
export const XsType = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;

/** Number of valid types (`XS_TYPE_COUNT`). */
export const XS_TYPE_COUNT = 23;

/** Name of a message type number (for logs), e.g. 2 → `READ`. */
export function xsTypeName(type: number): string {
  for (const [k, v] of Object.entries(XsType)) if (v === type) return k;
  return `TYPE_${type}`;
}

/** The errno names a daemon may put in an XS_ERROR reply (`xsd_errors[]`), with their Linux numbers. */
export const XS_ERRORS: Readonly<Record<string, number>> = {
  EINVAL: 22,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  ENOENT: 2,
  ENOMEM: 12,
  ENOSPC: 28,
  EIO: 5,
  ENOTEMPTY: 39,
  ENOSYS: 38,
  EROFS: 30,
  EBUSY: 16,
  EAGAIN: 11,
  EISCONN: 106,
  E2BIG: 7,
  EPERM: 1,
};

/** An errno name that can travel in an XS_ERROR reply. */
export type XsErrorName = keyof typeof XS_ERRORS & string;

/** Size of `struct xsd_sockmsg`. */
export const HEADER_SIZE = 16;
/** Largest payload (`XENSTORE_PAYLOAD_MAX`). A longer one is a protocol violation. */
export const PAYLOAD_MAX = 4096;
/** Longest absolute path (`XENSTORE_ABS_PATH_MAX`). */
export const ABS_PATH_MAX = 3072;
/** Longest relative path (`XENSTORE_REL_PATH_MAX`). */
export const REL_PATH_MAX = 2048;

/** One decoded message. */
export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** Encodes one message (header + payload). */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type >>> 0, true);
  dv.setUint32(4, reqId >>> 0, true);
  dv.setUint32(8, txId >>> 0, true);
  dv.setUint32(12, payload.length, true);
  out.set(payload, HEADER_SIZE);
  return out;
}

/** Reads the header fields at the start of `buf` (which must hold HEADER_SIZE bytes). */
export function decodeHeader(buf: Uint8Array): { type: number; reqId: number; txId: number; len: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, HEADER_SIZE);
  return {
    type: dv.getUint32(0, true),
    reqId: dv.getUint32(4, true),
    txId: dv.getUint32(8, true),
    len: dv.getUint32(12, true),
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Payload of NUL-terminated strings: `["a","b"]` → `a\0b\0`. */
export function nulStrings(...parts: string[]): Uint8Array {
  return enc.encode(parts.map((p) => p + "\0").join(""));
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Splits a payload at NULs. A trailing NUL ends the last string (no empty string after it); bytes after the last
 * NUL form one more (unterminated) string.
 */
export function splitStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(dec.decode(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < payload.length) out.push(dec.decode(payload.subarray(start)));
  return out;
}

/** Index just after the `n`-th NUL of `payload`, or -1 when there are fewer NULs. */
export function afterNthNul(payload: Uint8Array, n: number): number {
  let seen = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0 && ++seen === n) return i + 1;
  }
  return -1;
}

/** Decodes bytes as UTF-8 text. */
export function text(bytes: Uint8Array): string {
  return dec.decode(bytes);
}

/** Encodes text as UTF-8 bytes. */
export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

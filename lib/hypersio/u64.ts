/**
 * 64-bit values as two unsigned 32-bit halves (`hi`, `lo`): exact for every u64 without BigInt's cost on the hot
 * paths of the parser and the model.
 * @module
 */

/** An unsigned 64-bit value. */
export interface U64 {
  hi: number;
  lo: number;
}

/** All ones (`(uint64_t)-1`), the reference's "no next access". */
export const U64_MAX: U64 = Object.freeze({ hi: 0xffffffff, lo: 0xffffffff });

const HEX_0X = /^0x0*([0-9a-fA-F]{1,16})$/;
const HEX_BARE = /^0*([0-9a-fA-F]{1,16})$/;

/** Parses `0x…` (or bare hex digits when `prefixed` is false); null when not a hex number of at most 64 bits. */
export function parseHex64(text: string, prefixed = true): U64 | null {
  const m = (prefixed ? HEX_0X : HEX_BARE).exec(text);
  if (!m) return null;
  const d = m[1];
  const n = d.length;
  if (n <= 8) return { hi: 0, lo: parseInt(d, 16) };
  return { hi: parseInt(d.slice(0, n - 8), 16), lo: parseInt(d.slice(n - 8), 16) };
}

/** Converts to bigint. */
export function toBigInt(v: U64): bigint {
  return (BigInt(v.hi) << 32n) | BigInt(v.lo);
}

/** From bigint (taken modulo 2^64). */
export function fromBigInt(v: bigint): U64 {
  const x = BigInt.asUintN(64, v);
  return { hi: Number(x >> 32n), lo: Number(x & 0xffffffffn) };
}

/** `0x…` text, lower-case, no leading zeros. */
export function hex(v: U64): string {
  return "0x" + toBigInt(v).toString(16);
}

/** The value as a number; exact below 2^53. */
export function toNumber(v: U64): number {
  return v.hi * 4294967296 + v.lo;
}

const MASKS: U64[] = [1, 2, 3, 4, 5].map(computeMask);

/** Page mask of a VT-d page level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB): `~((1 << (12 + 9·(lvl−1))) − 1)`. */
export function levelMask(level: number): U64 {
  const m = MASKS[level - 1];
  return m ? { hi: m.hi, lo: m.lo } : computeMask(level);
}

function computeMask(level: number): U64 {
  const shift = 12 + 9 * (level - 1);
  if (shift < 32) return { hi: 0xffffffff, lo: (~((2 ** shift) - 1)) >>> 0 };
  return { hi: (~((2 ** (shift - 32)) - 1)) >>> 0, lo: 0 };
}

/** Level 1–3 whose page mask equals `mask`, or 0. */
export function maskLevel(mask: U64): number {
  for (let l = 1; l <= 3; l++) {
    const m = MASKS[l - 1];
    if (m.hi === mask.hi && m.lo === mask.lo) return l;
  }
  return 0;
}

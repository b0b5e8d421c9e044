/**
 * Cache and `nat` keys: a (page address, DID) pair as one number. Exact arithmetic when the address is page-aligned
 * and below 2^49 (every IOVA seen in practice); any other address is interned to a distinct negative number, so
 * every 64-bit address stays exact and keys are always plain numbers (fast to compare and store).
 * @module
 */

const interned = new Map<string, number>();

/** Key of (address `hi:lo` already masked, `did`). */
export function pageKey(hi: number, lo: number, did: number): number {
  if (hi < 131072 && (lo & 0xfff) === 0) return (hi * 1048576 + (lo >>> 12)) * 65536 + did;
  const s = `${hi}:${lo}:${did}`;
  let k = interned.get(s);
  if (k === undefined) interned.set(s, k = -1 - interned.size);
  return k;
}

/**
 * Bucket of a pageKey under the reference's `std::hash<AddrDidKey>` = `(addr << 16) | did`, modulo `n`
 * (exact for addresses below 2^48; interned keys get an arbitrary but fixed bucket).
 */
export function pageKeyBucket(key: number, n: number): number {
  if (key < 0) return -key % n;
  const page = Math.floor(key / 65536), did = key % 65536;
  return ((page % n) * (268435456 % n) + did) % n;
}

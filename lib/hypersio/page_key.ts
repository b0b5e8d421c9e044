/**
 * Cache and `nat` keys: a (page address, DID) pair as one Map key. A number when exact (page-aligned address below
 * 2^49), else a string, so any 64-bit address stays exact.
 * @module
 */

/** Key of (address `hi:lo` already masked, `did`). */
export function pageKey(hi: number, lo: number, did: number): number | string {
  if (hi < 131072 && (lo & 0xfff) === 0) return (hi * 1048576 + (lo >>> 12)) * 65536 + did;
  return `${hi}:${lo}:${did}`;
}

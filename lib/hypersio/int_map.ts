/**
 * A map from integer keys to non-negative integer values, as fast as an array for keys below a limit (SIDs and DIDs
 * are 16-bit in a trace) and still correct for any other key (kept in a Map).
 * @module
 */

/** Integer → non-negative integer map; `get` returns -1 for a missing key. */
export class IntMap {
  readonly #dense: Int32Array;
  readonly #other = new Map<number, number>();

  /** Keys in 0 ≤ key < `denseLimit` (integers) live in an array of that length. */
  constructor(denseLimit = 65536) {
    this.#dense = new Int32Array(denseLimit).fill(-1);
  }

  #isDense(key: number): boolean {
    // `(key | 0) === key`: an integer (below the limit, it fits in 32 bits); no Math.floor call on the hot path.
    return key >= 0 && key < this.#dense.length && (key | 0) === key;
  }

  /** Value of `key`, or -1. */
  get(key: number): number {
    if (this.#isDense(key)) return this.#dense[key];
    return this.#other.get(key) ?? -1;
  }

  /** Sets `key` to `value` (≥ 0). */
  set(key: number, value: number): void {
    if (this.#isDense(key)) this.#dense[key] = value;
    else this.#other.set(key, value);
  }
}

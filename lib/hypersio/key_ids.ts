/**
 * Dense ids for cache keys (pageKey numbers): the first key seen gets 0, the next new one 1, and so on. The model
 * interns a record's keys once when it reads the record, so the caches can find a key's way through an id-indexed
 * array instead of comparing keys way by way. Open addressing with linear probing on typed arrays (no boxing).
 * @module
 */

/** Interning table from key (any number that is an integer, as pageKey returns) to dense id. */
export class KeyIds {
  #keys = new Float64Array(1 << 12);
  #ids = new Int32Array(1 << 12).fill(-1);
  #bits = 12;
  /** Number of distinct keys seen. */
  size = 0;

  /** The id of `key`, assigning the next one if it is new. */
  id(key: number): number {
    const shift = 32 - this.#bits, mask = (1 << this.#bits) - 1;
    const keys = this.#keys, ids = this.#ids;
    let i = KeyIds.#hash(key) >>> shift;
    for (;;) {
      const v = ids[i];
      if (v < 0) break;
      if (keys[i] === key) return v;
      i = (i + 1) & mask;
    }
    keys[i] = key;
    ids[i] = this.size;
    if (++this.size * 2 > mask) this.#grow();
    return this.size - 1;
  }

  static #hash(key: number): number {
    const lo = key >>> 0, hi = Math.floor(key / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) >>> 0;
  }

  #grow(): void {
    const oldKeys = this.#keys, oldIds = this.#ids;
    this.#bits++;
    const n = 1 << this.#bits, mask = n - 1, shift = 32 - this.#bits;
    this.#keys = new Float64Array(n);
    this.#ids = new Int32Array(n).fill(-1);
    for (let j = 0; j < oldIds.length; j++) {
      if (oldIds[j] < 0) continue;
      let i = KeyIds.#hash(oldKeys[j]) >>> shift;
      while (this.#ids[i] >= 0) i = (i + 1) & mask;
      this.#keys[i] = oldKeys[j];
      this.#ids[i] = oldIds[j];
    }
  }
}

/**
 * glibc's `rand()`/`srand()` (the default TYPE_3 additive feedback generator, degree 31, separation 3), so traces
 * built with `rand` order and LFU victim choices follow the reference tool's C library exactly.
 * @module
 */

/** A glibc-compatible `rand()` stream. `new GlibcRandom(1)` equals a fresh process calling `srand(1)`. */
export class GlibcRandom {
  #r = new Int32Array(34);
  #i = 0;

  /** Seeds like `srand(seed)`; glibc treats seed 0 as 1. */
  constructor(seed = 1) {
    this.srand(seed);
  }

  /** Re-seeds like glibc's `srand`. */
  srand(seed: number): void {
    const r = new Int32Array(34);
    r[0] = seed >>> 0 === 0 ? 1 : seed | 0;
    for (let i = 1; i < 31; i++) {
      // 16807 * r mod (2^31 - 1) with Schrage's method, exactly as glibc's random_r.c.
      const hi = Math.trunc(r[i - 1] / 127773);
      const lo = r[i - 1] % 127773;
      let word = 16807 * lo - 2836 * hi;
      if (word < 0) word += 2147483647;
      r[i] = word;
    }
    for (let i = 31; i < 34; i++) r[i] = r[i - 31];
    this.#r = r;
    this.#i = 0;
    // glibc discards the first 310 outputs (10 * degree).
    for (let k = 0; k < 310; k++) this.#step();
  }

  #step(): number {
    // Ring buffer of the last 34 values: r[k] = r[k-31] + r[k-3].
    const r = this.#r;
    const i = this.#i;
    const v = (r[(i + 3) % 34] + r[(i + 31) % 34]) | 0;
    r[i] = v;
    this.#i = (i + 1) % 34;
    return v;
  }

  /** Next value in 0 … 2^31−1, like `rand()`. */
  rand(): number {
    return this.#step() >>> 1;
  }
}

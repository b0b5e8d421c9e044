/**
 * The translations of a trace build, kept packed in log order (40 B each, because `rr`/`rand` interleaving needs
 * every tenant's stream before anything is written), with each tenant's record indices, and written out in trace
 * order with their `nat` links.
 * @module
 */
import type { LineFields } from "./log_line_bytes.ts";
import { IOTLB_RECORD_BYTES, RecordWriter, TRANSLATE_TYPE } from "./trace_format.ts";

/** Words of a stored translation: the first 40 bytes of its record (the `nat` link is added when writing). */
const STORED_WORDS = 10;

/** Records per call of the write loops. */
const BLOCK = 8192;

/** A growable list of record indices. */
export class IndexList {
  a = new Int32Array(64);
  n = 0;
  push(i: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = i;
  }
}

/** Translation records in log order (little-endian hosts: x86, arm64) and their indices per tenant. */
export class TranslationStore {
  words = new Uint32Array(STORED_WORDS * 4096);
  count = 0;
  /** Record indices per (renumbered) DID. */
  readonly perDid: (IndexList | undefined)[] = [];

  /**
   * Makes room for `records` more at once, so a log costs one allocation instead of a chain of doublings (pages
   * that stay unused are never touched, so an over-estimate costs address space, not memory).
   */
  reserve(records: number): void {
    const need = (this.count + records) * STORED_WORDS;
    if (need > this.words.length) this.#resize(need);
  }

  /** Appends the translation in `f` under `sid` and (renumbered) `did`. */
  add(sid: number, did: number, f: LineFields): void {
    const o = this.count * STORED_WORDS;
    if (o + STORED_WORDS > this.words.length) this.#resize(this.words.length * 2);
    const w = this.words;
    w[o] = TRANSLATE_TYPE;
    w[o + 1] = (sid & 0xffff) | ((did & 0xffff) << 16);
    w[o + 2] = f.iovaLo;
    w[o + 3] = f.iovaHi;
    w[o + 4] = f.maskLo;
    w[o + 5] = f.maskHi;
    w[o + 6] = f.level;
    w[o + 7] = 0;
    w[o + 8] = f.slpteLo;
    w[o + 9] = f.slpteHi;
    let list = this.perDid[did];
    if (!list) this.perDid[did] = list = new IndexList();
    list.push(this.count++);
  }

  /** The DIDs with translations and their index lists. */
  tenants(): Map<number, IndexList> {
    const m = new Map<number, IndexList>();
    this.perDid.forEach((list, did) => list && m.set(did, list));
    return m;
  }

  /** Writes the records at `sequence` (indices in trace order) to `path` with `nat` links. */
  writeIotlb(path: string, sequence: Int32Array): void {
    // Blocks keep the loops in short calls that V8 optimizes once and keeps, instead of on-stack-replacing one long
    // loop on every build.
    const last = new LastAccess();
    const nat = new Int32Array(sequence.length).fill(-1);
    for (let from = 0; from < sequence.length; from += BLOCK) {
      this.#link(sequence, from, Math.min(sequence.length, from + BLOCK), last, nat);
    }
    using w = new RecordWriter(path, IOTLB_RECORD_BYTES, Math.max(1, Math.min(1 << 14, sequence.length)));
    for (let from = 0; from < sequence.length; from += BLOCK) {
      this.#copy(sequence, from, Math.min(sequence.length, from + BLOCK), nat, w);
    }
  }

  /** nat links of sequence[from, to): each record's position becomes the link of the previous one to its page. */
  #link(sequence: Int32Array, from: number, to: number, last: LastAccess, nat: Int32Array): void {
    const src = this.words;
    for (let i = from; i < to; i++) {
      const o = sequence[i] * STORED_WORDS;
      const prev = last.swap(src[o + 3] & src[o + 5], src[o + 2] & src[o + 4], src[o + 1] >>> 16, i);
      if (prev >= 0) nat[prev] = i;
    }
  }

  /** Appends the records of sequence[from, to) with their links to `w`. */
  #copy(sequence: Int32Array, from: number, to: number, nat: Int32Array, w: RecordWriter): void {
    const src = this.words;
    const dst = w.words;
    for (let i = from, d = w.reserve(to - from) >> 2; i < to; i++, d += IOTLB_RECORD_BYTES >> 2) {
      const o = sequence[i] * STORED_WORDS;
      for (let k = 0; k < STORED_WORDS; k++) dst[d + k] = src[o + k];
      dst[d + 10] = nat[i]; // -1 stores all ones: "no next access"
      dst[d + 11] = nat[i] < 0 ? 0xffffffff : 0;
    }
  }

  #resize(words: number): void {
    const bigger = new Uint32Array(words);
    bigger.set(this.words.subarray(0, this.count * STORED_WORDS));
    this.words = bigger;
  }
}

/**
 * The last trace position of each (page, DID): open addressing with linear probing on typed arrays, keyed by the
 * page address's two 32-bit halves and the DID, so every 64-bit address is exact and nothing is boxed.
 */
class LastAccess {
  #keys = new Int32Array(3 << 10);
  #at = new Int32Array(1 << 10).fill(-1);
  #bits = 10;
  #size = 0;

  /** Records position `i` for the key and returns the previous one, or -1. */
  swap(hi: number, lo: number, did: number, i: number): number {
    const keys = this.#keys, at = this.#at, mask = (1 << this.#bits) - 1;
    for (let slot = LastAccess.#hash(hi, lo, did) >>> (32 - this.#bits);; slot = (slot + 1) & mask) {
      const prev = at[slot];
      if (prev < 0) break;
      if (keys[3 * slot] === lo && keys[3 * slot + 1] === hi && keys[3 * slot + 2] === did) {
        at[slot] = i;
        return prev;
      }
    }
    this.#insert(hi, lo, did, i);
    return -1;
  }

  static #hash(hi: number, lo: number, did: number): number {
    return Math.imul((lo >>> 12) ^ (lo << 20) ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul(did, 0x165667b1), 0x9e3779b1);
  }

  #insert(hi: number, lo: number, did: number, i: number): void {
    if (++this.#size * 2 > this.#at.length) this.#grow();
    const keys = this.#keys, at = this.#at, mask = (1 << this.#bits) - 1;
    let slot = LastAccess.#hash(hi, lo, did) >>> (32 - this.#bits);
    while (at[slot] >= 0) slot = (slot + 1) & mask;
    keys[3 * slot] = lo;
    keys[3 * slot + 1] = hi;
    keys[3 * slot + 2] = did;
    at[slot] = i;
  }

  #grow(): void {
    const oldKeys = this.#keys, oldAt = this.#at;
    this.#bits++;
    this.#keys = new Int32Array(3 << this.#bits);
    this.#at = new Int32Array(1 << this.#bits).fill(-1);
    this.#size = 0;
    for (let s = 0; s < oldAt.length; s++) {
      if (oldAt[s] >= 0) this.#insert(oldKeys[3 * s + 1], oldKeys[3 * s], oldKeys[3 * s + 2], oldAt[s]);
    }
  }
}

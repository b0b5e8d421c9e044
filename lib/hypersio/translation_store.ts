/**
 * The translations of a trace build, kept packed in log order (40 B each, because `rr`/`rand` interleaving needs
 * every tenant's stream before anything is written), with each tenant's record indices, and written out in trace
 * order with their `nat` links.
 * @module
 */
import { KeyIds } from "./key_ids.ts";
import type { LineFields } from "./log_line_bytes.ts";
import { pageKey } from "./page_key.ts";
import { IOTLB_RECORD_BYTES, RecordWriter, TRANSLATE_TYPE } from "./trace_format.ts";

/** Words of a stored translation: the first 40 bytes of its record (the `nat` link is added when writing). */
const STORED_WORDS = 10;

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
    const src = this.words;
    const pages = new KeyIds();
    const lastAt = new Int32Array(sequence.length).fill(-1);
    const nat = new Int32Array(sequence.length).fill(-1);
    for (let i = 0; i < sequence.length; i++) {
      const o = sequence[i] * STORED_WORDS;
      const key = pageKey((src[o + 3] & src[o + 5]) >>> 0, (src[o + 2] & src[o + 4]) >>> 0, src[o + 1] >>> 16);
      const page = pages.id(key);
      const prev = lastAt[page];
      if (prev >= 0) nat[prev] = i;
      lastAt[page] = i;
    }
    using w = new RecordWriter(path, IOTLB_RECORD_BYTES);
    for (let i = 0; i < sequence.length; i++) {
      const d = w.reserve() >> 2, dst = w.words, o = sequence[i] * STORED_WORDS;
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

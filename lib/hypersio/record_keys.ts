/**
 * A translation record's cache keys as dense ids: IOTLB key `(iova & mask, DID)`, L2PAGE key (2 MB page, DID) and
 * L3PAGE key (1 GB page, DID), each a KeyIds id, plus the IOTLB key itself (LFU/oracle rows hash it). Traces revisit
 * the same pages over and over, so the three are derived once per (4 KB page, DID, mask) and then found with one
 * lookup.
 * @module
 */
import { KeyIds } from "./key_ids.ts";
import { pageKey } from "./page_key.ts";

/** Memoized key derivation; `derive` leaves its answer in the public fields. */
export class RecordKeys {
  /** Ids of every cache key (shared by the caches). */
  readonly ids = new KeyIds();
  /** Ids of (4 KB page, DID) pairs: the memo's index. */
  readonly #pages = new KeyIds();
  #maskHi = new Uint32Array(1024);
  #maskLo = new Uint32Array(1024);
  #iotlbKey = new Float64Array(1024);
  #iotlbId = new Int32Array(1024);
  #l2Id = new Int32Array(1024);
  #l3Id = new Int32Array(1024);
  /** Memo entries filled (page ids below this have their fields set). */
  #filled = 0;

  /** Results of the last `derive`. */
  iotlbKey = 0;
  iotlbId = 0;
  l2Id = 0;
  l3Id = 0;

  /** Derives the keys of the address `hi:lo` with mask `maskHi:maskLo` for `did`. */
  derive(hi: number, lo: number, maskHi: number, maskLo: number, did: number): void {
    if ((maskLo & 0xfff) !== 0) {
      // The IOTLB key keeps address bits below 4 KB: not a function of the 4 KB page; derive without the memo.
      this.#compute(hi, lo, maskHi, maskLo, did);
      return;
    }
    const p = this.#pages.id(pageKey(hi, (lo & 0xfffff000) >>> 0, did));
    if (p < this.#filled && this.#maskHi[p] === maskHi && this.#maskLo[p] === maskLo) {
      this.iotlbKey = this.#iotlbKey[p];
      this.iotlbId = this.#iotlbId[p];
      this.l2Id = this.#l2Id[p];
      this.l3Id = this.#l3Id[p];
    } else this.#remember(p, hi, lo, maskHi, maskLo, did);
  }

  /** Derives the keys of a memo miss and stores them as memo entry `p` (out of line: derive stays small). */
  #remember(p: number, hi: number, lo: number, maskHi: number, maskLo: number, did: number): void {
    this.#compute(hi, lo, maskHi, maskLo, did);
    if (p >= this.#maskHi.length) this.#grow(p + 1);
    this.#maskHi[p] = maskHi, this.#maskLo[p] = maskLo, this.#iotlbKey[p] = this.iotlbKey;
    this.#iotlbId[p] = this.iotlbId, this.#l2Id[p] = this.l2Id, this.#l3Id[p] = this.l3Id;
    if (p >= this.#filled) this.#filled = p + 1;
  }

  #compute(hi: number, lo: number, maskHi: number, maskLo: number, did: number): void {
    const ids = this.ids;
    this.iotlbKey = pageKey((hi & maskHi) >>> 0, (lo & maskLo) >>> 0, did);
    this.iotlbId = ids.id(this.iotlbKey);
    this.l2Id = ids.id(pageKey(hi, (lo & 0xffe00000) >>> 0, did));
    this.l3Id = ids.id(pageKey(hi, (lo & 0xc0000000) >>> 0, did));
  }

  #grow(need: number): void {
    const n = Math.max(need, this.#maskHi.length * 2);
    const g = <T extends Uint32Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.#maskHi = g(this.#maskHi), this.#maskLo = g(this.#maskLo), this.#iotlbKey = g(this.#iotlbKey);
    this.#iotlbId = g(this.#iotlbId), this.#l2Id = g(this.#l2Id), this.#l3Id = g(this.#l3Id);
  }
}

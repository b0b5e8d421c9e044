/**
 * Exact LRU over every set of a cache, in flat typed arrays. Keys are dense ids (KeyIds), so nothing is boxed. A set's
 * filled ways form a doubly linked list, most recently used first: a hit and the choice of victim are O(1). While every
 * access promises that its key alone decides its set (`fixed`), a key-id → way index (`where`) makes the search O(1)
 * too; the first access without that promise (e.g. a 1 GB page in an IOTLB indexed by 2 MB, whose set varies with the
 * address) drops the index for good and searches scan the set. Both give the answers of a least-recently-used row.
 * @module
 */

const NONE = -1;

/** Results of LruSets.access (also used by Cache for LFU/oracle rows). */
export const ACCESS_MISS = 0;
/** The key was present. */
export const ACCESS_HIT = 1;
/** Missing, inserted into a free way. */
export const ACCESS_FILLED = 2;
/** Missing, inserted in place of an evicted key (a conflict). */
export const ACCESS_EVICTED = 3;

/** All sets of one LRU cache. */
export class LruSets {
  /** Key id held by each way (slot = set × ways + way). */
  readonly id: Int32Array;
  /** Previous and next slot in the set's list (-1 at the ends). Fields are public for the model's fused event loop. */
  readonly prev: Int32Array;
  readonly next: Int32Array;
  /** Per set: most and least recently used slot, and filled ways. */
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly count: Int32Array;
  /** Slot of each key id (valid while `indexed`; replaced by a larger array as ids grow). */
  where: Int32Array = new Int32Array(1024).fill(NONE);
  /** Whether `where` is exact; false once an access without a usable key id was seen. */
  indexed = true;

  constructor(readonly sets: number, readonly ways: number) {
    const n = sets * ways;
    this.id = new Int32Array(n).fill(NONE);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.head = new Int32Array(sets).fill(NONE);
    this.tail = new Int32Array(sets).fill(NONE);
    this.count = new Int32Array(sets);
  }

  /**
   * One access to `key` in `set`, as the reference's row lookup then (on a miss, when `alloc`) insert: a hit makes the
   * key the most recently used; an insert takes a free way or evicts the least recently used. Returns ACCESS_HIT,
   * ACCESS_MISS (nothing inserted), ACCESS_FILLED or ACCESS_EVICTED. `keyId` is the key's dense id (≥ 0); `fixed`
   * promises that the key alone decides the set (false drops the index for good).
   */
  access(set: number, keyId: number, fixed: boolean, alloc: boolean): number {
    const s = fixed && this.indexed
      ? (keyId < this.where.length ? this.where[keyId] : NONE)
      : this.#scan(set, keyId, fixed);
    if (s !== NONE) {
      if (this.head[set] !== s) this.toFront(set, s);
      return ACCESS_HIT;
    }
    return alloc ? this.insert(set, keyId, fixed) : ACCESS_MISS;
  }

  /** Search without the index (dropping it when the key has no usable id). */
  #scan(set: number, keyId: number, fixed: boolean): number {
    if (!fixed) this.indexed = false;
    const k = this.id;
    for (let j = set * this.ways, end = j + this.count[set]; j < end; j++) if (k[j] === keyId) return j;
    return NONE;
  }

  /** Moves slot `s`, not the head, to the front of its set's list (a hit). */
  toFront(set: number, s: number): void {
    const prev = this.prev, next = this.next, h = this.head[set];
    const p = prev[s], q = next[s];
    next[p] = q;
    if (q === NONE) this.tail[set] = p;
    else prev[q] = p;
    prev[s] = NONE;
    next[s] = h;
    prev[h] = s;
    this.head[set] = s;
  }

  /**
   * Inserts a key known to be missing from `set` in front, in a free way or in place of the tail; returns ACCESS_FILLED
   * or ACCESS_EVICTED. `fixed` as for access.
   */
  insert(set: number, keyId: number, fixed: boolean): number {
    if (!fixed) this.indexed = false;
    const prev = this.prev, next = this.next;
    const n = this.count[set];
    let s: number, result: number;
    if (n < this.ways) {
      s = set * this.ways + n;
      this.count[set] = n + 1;
      result = ACCESS_FILLED;
    } else {
      s = this.tail[set];
      const p = prev[s];
      if (p === NONE) this.head[set] = NONE;
      else next[p] = NONE;
      this.tail[set] = p;
      if (this.indexed) this.where[this.id[s]] = NONE;
      result = ACCESS_EVICTED;
    }
    this.id[s] = keyId;
    if (this.indexed) {
      if (keyId >= this.where.length) this.#growWhere(keyId);
      this.where[keyId] = s;
    }
    const h = this.head[set];
    prev[s] = NONE;
    next[s] = h;
    if (h === NONE) this.tail[set] = s;
    else prev[h] = s;
    this.head[set] = s;
    return result;
  }

  #growWhere(keyId: number): void {
    const w = new Int32Array(Math.max(keyId + 1, this.where.length * 2)).fill(NONE);
    w.set(this.where);
    this.where = w;
  }
}

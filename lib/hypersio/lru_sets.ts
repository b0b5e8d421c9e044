/**
 * Exact LRU over every set of a cache, in flat typed arrays. A set's filled ways form a doubly linked list, most
 * recently used first, so a hit and the choice of victim are O(1). While every access names its key's dense id (see
 * KeyIds) and a key alone decides its set, a key-id → way index (`where`) also makes the search O(1); otherwise (an
 * access without an id, or a key whose set varies with the address, e.g. a 1 GB page in an IOTLB indexed by 2 MB) the
 * index is dropped for good and searches scan the set. Both give the same answers as a least-recently-used row.
 * @module
 */

const NONE = -1;

/** All sets of one LRU cache. */
export class LruSets {
  /** Key held by each way (slot = set × ways + way). */
  readonly key: Float64Array;
  /** Key id held by each way, or NONE. */
  readonly id: Int32Array;
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  /** Per set: most and least recently used slot, and filled ways. */
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  readonly #count: Int32Array;
  /** Slot of each key id (valid while `indexed`). */
  #where: Int32Array = new Int32Array(1024).fill(NONE);
  /** Whether `#where` is exact; false once an access without a usable key id was seen. */
  indexed = true;

  constructor(readonly sets: number, readonly ways: number) {
    const n = sets * ways;
    this.key = new Float64Array(n);
    this.id = new Int32Array(n).fill(NONE);
    this.#prev = new Int32Array(n);
    this.#next = new Int32Array(n);
    this.#head = new Int32Array(sets).fill(NONE);
    this.#tail = new Int32Array(sets).fill(NONE);
    this.#count = new Int32Array(sets);
  }

  /**
   * Looks `key` up in `set`; on a hit makes it the most recently used and returns true. `keyId` is the key's dense id,
   * or NONE when the caller cannot promise that the key alone decides the set (drops the index).
   */
  lookup(set: number, key: number, keyId: number): boolean {
    let s: number;
    if (keyId >= 0 && this.indexed) {
      s = keyId < this.#where.length ? this.#where[keyId] : NONE;
    } else {
      if (keyId < 0) this.indexed = false;
      s = NONE;
      const k = this.key;
      for (let j = set * this.ways, end = j + this.#count[set]; j < end; j++) {
        if (k[j] === key) {
          s = j;
          break;
        }
      }
    }
    if (s === NONE) return false;
    if (this.#head[set] !== s) {
      this.#unlink(set, s);
      this.#pushFront(set, s);
    }
    return true;
  }

  /** Inserts a missing `key` into `set` as the most recently used; returns true when it evicted the LRU way. */
  insert(set: number, key: number, keyId: number): boolean {
    if (keyId < 0) this.indexed = false;
    const n = this.#count[set];
    let s: number, conflict: boolean;
    if (n < this.ways) {
      s = set * this.ways + n;
      this.#count[set] = n + 1;
      conflict = false;
    } else {
      s = this.#tail[set];
      this.#unlink(set, s);
      if (this.indexed && this.id[s] >= 0) this.#where[this.id[s]] = NONE;
      conflict = true;
    }
    this.key[s] = key;
    this.id[s] = keyId;
    if (this.indexed) {
      if (keyId >= this.#where.length) this.#growWhere(keyId);
      this.#where[keyId] = s;
    }
    this.#pushFront(set, s);
    return conflict;
  }

  #growWhere(keyId: number): void {
    const w = new Int32Array(Math.max(keyId + 1, this.#where.length * 2)).fill(NONE);
    w.set(this.#where);
    this.#where = w;
  }

  #unlink(set: number, s: number): void {
    const p = this.#prev[s], q = this.#next[s];
    if (p === NONE) this.#head[set] = q;
    else this.#next[p] = q;
    if (q === NONE) this.#tail[set] = p;
    else this.#prev[q] = p;
  }

  #pushFront(set: number, s: number): void {
    const h = this.#head[set];
    this.#prev[s] = NONE;
    this.#next[s] = h;
    if (h === NONE) this.#tail[set] = s;
    else this.#prev[h] = s;
    this.#head[set] = s;
  }
}

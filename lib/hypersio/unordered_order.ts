/**
 * Iteration order of libstdc++'s `std::unordered_map` with an integer key (identity hash, max load factor 1), as
 * GCC 12 builds it when keys are inserted one by one. The reference writes `cc_data.bin` and `slpt_data.bin` by
 * iterating such maps, so reproducing the order makes those files byte-identical. Checked against g++ in
 * tests/unit/hypersio/unordered_order_test.ts.
 * @module
 */

/** Bucket counts `_Prime_rehash_policy` grows through (from 1), printed by g++ 12's policy object. */
const BUCKET_STEPS = [
  13,
  29,
  59,
  127,
  257,
  541,
  1109,
  2357,
  5087,
  10273,
  20753,
  42043,
  85229,
  172933,
  351061,
  712697,
  1447153,
  2938679,
  5967347,
  12117689,
  24607243,
  49969847,
  101473717,
];

const EMPTY = -1;
const BEFORE_BEGIN = -2;
const NIL = -1;

/** `hash(key) % n` for a bucket count n. */
export type BucketOf = (key: number, n: number) => number;

/** Identity hash of a non-negative integer key below 2^53 (std::hash of an integer). */
export const identityBucket: BucketOf = (key, n) => {
  if (key < 4294967296) return key % n;
  const hi = Math.floor(key / 4294967296), lo = key >>> 0;
  return ((hi % n) * (4294967296 % n) + (lo % n)) % n;
};

/**
 * A map from integer keys to values that iterates like libstdc++'s unordered_map (insert, `operator[]` assignment
 * keeping the position, erase). `bucketOf` gives the key's bucket (its std::hash modulo the bucket count);
 * by default the identity hash of an integer key.
 */
export class UnorderedMapOrder<V> {
  #keys: number[] = [];
  #values: V[] = [];
  #next: number[] = [];
  #index = new Map<number, number>();
  /** Node + 1 of each key below `denseKeys` (0 = absent), instead of `#index`; null when not dense. */
  #dense: Int32Array | null;
  #free: number[] = [];
  #head = NIL;
  #buckets: Int32Array = new Int32Array(1).fill(EMPTY);
  #step = 0;
  #count = 0;

  /**
   * `denseKeys` > 0 promises most keys are integers below it (e.g. SIDs): those are indexed by an array instead of a
   * hash map (faster; other keys still work).
   */
  constructor(readonly bucketOf: BucketOf = identityBucket, denseKeys = 0) {
    this.#dense = denseKeys > 0 ? new Int32Array(denseKeys) : null;
  }

  /** Internal node of `key`, or -1 (valid until the next insert or delete; see valueAt/setValueAt). */
  nodeOf(key: number): number {
    const d = this.#dense;
    if (d !== null && key >= 0 && key < d.length && (key | 0) === key) return d[key] - 1;
    const i = this.#index.get(key);
    return i === undefined ? -1 : i;
  }

  /** Value held by a node from nodeOf. */
  valueAt(node: number): V {
    return this.#values[node];
  }

  /** Overwrites the value of a node from nodeOf (like `map[key] = value` on a present key). */
  setValueAt(node: number, value: V): void {
    this.#values[node] = value;
  }

  #indexSet(key: number, node: number): void {
    const d = this.#dense;
    if (d !== null && key >= 0 && key < d.length && (key | 0) === key) d[key] = node + 1;
    else this.#index.set(key, node);
  }

  #indexDelete(key: number): void {
    const d = this.#dense;
    if (d !== null && key >= 0 && key < d.length && (key | 0) === key) d[key] = 0;
    else this.#index.delete(key);
  }

  /** Number of keys. */
  get size(): number {
    return this.#count;
  }

  /** True when `key` is present. */
  has(key: number): boolean {
    return this.nodeOf(key) >= 0;
  }

  /** The value at `key`, if any. */
  get(key: number): V | undefined {
    const i = this.nodeOf(key);
    return i < 0 ? undefined : this.#values[i];
  }

  /** Inserts or overwrites like `map[key] = value`. */
  set(key: number, value: V): void {
    const found = this.nodeOf(key);
    if (found >= 0) {
      this.#values[found] = value;
      return;
    }
    // Rehash when the element count would exceed the bucket count (load factor 1); the first insert makes 13.
    const count = this.#buckets.length;
    if (this.#count + 1 > (count === 1 ? 0 : count)) {
      const n = BUCKET_STEPS[this.#step++];
      if (n === undefined) throw new RangeError("UnorderedMapOrder: more keys than modelled bucket growth");
      this.#rehash(n);
    }
    let node = this.#free.pop();
    if (node === undefined) {
      node = this.#keys.length;
      this.#keys.push(key);
      this.#values.push(value);
      this.#next.push(NIL);
    } else {
      this.#keys[node] = key;
      this.#values[node] = value;
      this.#next[node] = NIL;
    }
    this.#indexSet(key, node);
    this.#count++;
    this.#insertBucketBegin(this.bucketOf(key, this.#buckets.length), node);
  }

  /** Removes `key` like `erase(key)`; returns whether it was present. */
  delete(key: number): boolean {
    const node = this.nodeOf(key);
    if (node < 0) return false;
    const b = this.#buckets;
    const bkt = this.bucketOf(key, b.length);
    // Find the node before `node` (the bucket's "before" pointer, then along the chain).
    let prev = b[bkt];
    while (this.#nextOf(prev) !== node) prev = this.#nextOf(prev);
    const after = this.#next[node];
    if (prev === b[bkt]) {
      // _M_remove_bucket_begin
      const afterBkt = after !== NIL ? this.bucketOf(this.#keys[after], b.length) : 0;
      if (after === NIL || afterBkt !== bkt) {
        if (after !== NIL) b[afterBkt] = b[bkt];
        if (b[bkt] === BEFORE_BEGIN) this.#head = after;
        b[bkt] = EMPTY;
      }
    } else if (after !== NIL) {
      const afterBkt = this.bucketOf(this.#keys[after], b.length);
      if (afterBkt !== bkt) b[afterBkt] = prev;
    }
    this.#setNext(prev, after);
    this.#indexDelete(key);
    this.#free.push(node);
    this.#count--;
    return true;
  }

  #nextOf(prev: number): number {
    return prev === BEFORE_BEGIN ? this.#head : this.#next[prev];
  }

  #setNext(prev: number, node: number): void {
    if (prev === BEFORE_BEGIN) this.#head = node;
    else this.#next[prev] = node;
  }

  /** `_M_insert_bucket_begin`. */
  #insertBucketBegin(bkt: number, node: number): void {
    const b = this.#buckets;
    if (b[bkt] !== EMPTY) {
      const prev = b[bkt];
      this.#next[node] = this.#nextOf(prev);
      this.#setNext(prev, node);
    } else {
      this.#next[node] = this.#head;
      this.#head = node;
      const after = this.#next[node];
      if (after !== NIL) b[this.bucketOf(this.#keys[after], b.length)] = node;
      b[bkt] = BEFORE_BEGIN;
    }
  }

  /** `_M_rehash_aux` for unique keys. */
  #rehash(n: number): void {
    const nb = new Int32Array(n).fill(EMPTY);
    let p = this.#head;
    this.#head = NIL;
    let bbeginBkt = 0;
    while (p !== NIL) {
      const nxt = this.#next[p];
      const bkt = this.bucketOf(this.#keys[p], n);
      if (nb[bkt] === EMPTY) {
        this.#next[p] = this.#head;
        this.#head = p;
        nb[bkt] = BEFORE_BEGIN;
        if (this.#next[p] !== NIL) nb[bbeginBkt] = p;
        bbeginBkt = bkt;
      } else {
        const prev = nb[bkt];
        this.#next[p] = this.#nextOf(prev);
        this.#setNext(prev, p);
      }
      p = nxt;
    }
    this.#buckets = nb;
  }

  /** Replaces every value by `fn(value)` (positions unchanged). */
  update(fn: (v: V) => V): void {
    for (let p = this.#head; p !== NIL; p = this.#next[p]) this.#values[p] = fn(this.#values[p]);
  }

  /** Entries in libstdc++ iteration order. */
  *entries(): IterableIterator<[number, V]> {
    for (let p = this.#head; p !== NIL; p = this.#next[p]) yield [this.#keys[p], this.#values[p]];
  }
}

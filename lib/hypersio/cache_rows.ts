/**
 * Cache sets ("rows") with the reference's replacement policies. Every row keeps its keys in a Map whose insertion
 * order is the policy's age order. `lookup` updates the policy state (LRU order, LFU counters, oracle next-access),
 * as the reference's `SearchKey` does on every lookup, allocating or not.
 * @module
 */
import type { GlibcRandom } from "./glibc_rand.ts";
import { type BucketOf, identityBucket, UnorderedMapOrder } from "./unordered_order.ts";

/** A cache key: (page, DID) from pageKey, or a SID. */
export type Key = number;

/** One set of a cache. */
export interface Row {
  readonly size: number;
  /** Finds `key`, updating replacement state on a hit. `nat` is the request's next-access index (oracle only). */
  lookup(key: Key, nat: number): boolean;
  /** Inserts a missing key, evicting a victim when full; returns true on a conflict (eviction). */
  insert(key: Key, nat: number): boolean;
}

/**
 * Least recently used for small rows (the usual 8–48 ways): keys in an array with a last-use stamp each; a hit only
 * restamps, an insert into a full row replaces the smallest stamp. Same order as LruRow (stamps are unique).
 */
export class SmallLruRow implements Row {
  readonly #k: Float64Array;
  readonly #t: Float64Array;
  #n = 0;
  #clock = 0;
  constructor(readonly ways: number) {
    this.#k = new Float64Array(ways);
    this.#t = new Float64Array(ways);
  }
  get size(): number {
    return this.#n;
  }
  lookup(key: Key): boolean {
    const k = this.#k, n = this.#n;
    for (let i = 0; i < n; i++) {
      if (k[i] === key) {
        this.#t[i] = ++this.#clock;
        return true;
      }
    }
    return false;
  }
  insert(key: Key): boolean {
    const k = this.#k, t = this.#t;
    if (this.#n === this.ways) {
      let v = 0;
      for (let j = 1; j < this.ways; j++) if (t[j] < t[v]) v = j;
      k[v] = key;
      t[v] = ++this.#clock;
      return true;
    }
    k[this.#n] = key;
    t[this.#n++] = ++this.#clock;
    return false;
  }
}

/** Least recently used: victim is the oldest key; a hit moves the key to the young end. */
export class LruRow implements Row {
  #m = new Map<Key, true>();
  constructor(readonly ways: number) {}
  get size(): number {
    return this.#m.size;
  }
  lookup(key: Key): boolean {
    if (!this.#m.has(key)) return false;
    this.#m.delete(key);
    this.#m.set(key, true);
    return true;
  }
  insert(key: Key): boolean {
    let conflict = false;
    if (this.#m.size === this.ways) {
      this.#m.delete(this.#m.keys().next().value!);
      conflict = true;
    }
    this.#m.set(key, true);
    return conflict;
  }
}

/**
 * Least frequently used with 4-bit counters: a hit increments the key's counter and, when one reaches 15, every
 * counter of the row is halved. The victim is a key with the smallest counter, chosen by `rand() % ties`, ties listed
 * in the reference's `unordered_map` iteration order (reproduced for the key's std::hash via `bucketOf`).
 */
export class LfuRow implements Row {
  #m: UnorderedMapOrder<number>;
  /** `denseKeys`: see UnorderedMapOrder (the context cache's SID keys are below 65536). */
  constructor(readonly ways: number, readonly rng: GlibcRandom, bucketOf: BucketOf = identityBucket, denseKeys = 0) {
    this.#m = new UnorderedMapOrder<number>(bucketOf, denseKeys);
  }
  get size(): number {
    return this.#m.size;
  }
  lookup(key: Key): boolean {
    const node = this.#m.nodeOf(key);
    if (node < 0) return false;
    const n = this.#m.valueAt(node) + 1;
    this.#m.setValueAt(node, n);
    if (n === 15) this.#m.update((v) => v >> 1);
    return true;
  }
  insert(key: Key): boolean {
    let conflict = false;
    if (this.#m.size === this.ways) {
      let min = 15;
      const ties: Key[] = [];
      for (const [k, v] of this.#m.entries()) {
        if (v === min) ties.push(k);
        else if (v < min) {
          min = v;
          ties.length = 0;
          ties.push(k);
        }
      }
      this.#m.delete(ties[this.rng.rand() % ties.length]);
      conflict = true;
    }
    this.#m.set(key, 0);
    return conflict;
  }
}

/**
 * Belady's oracle over the trace's `nat` links: the victim is the entry whose next access is furthest away (the first
 * such in the reference's `unordered_map` order; all-ones counts as furthest). A hit refreshes the entry's next access.
 */
export class OracleRow implements Row {
  #m: UnorderedMapOrder<number>;
  constructor(readonly ways: number, bucketOf: BucketOf = identityBucket) {
    this.#m = new UnorderedMapOrder<number>(bucketOf);
  }
  get size(): number {
    return this.#m.size;
  }
  lookup(key: Key, nat: number): boolean {
    if (!this.#m.has(key)) return false;
    this.#m.set(key, nat);
    return true;
  }
  insert(key: Key, nat: number): boolean {
    let conflict = false;
    if (this.#m.size === this.ways) {
      let best = 0;
      let victim: Key | undefined;
      for (const [k, v] of this.#m.entries()) {
        if (v > best) {
          best = v;
          victim = k;
        }
      }
      // The reference evicts a default-constructed key (nothing) when every nat is 0; keep the set size bounded.
      this.#m.delete(victim ?? this.#m.entries().next().value![0]);
      conflict = true;
    }
    this.#m.set(key, nat);
    return conflict;
  }
}

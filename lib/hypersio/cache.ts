/**
 * A set-associative translation cache as the reference models it: set index
 * `(DID & (groups−1)) << b | (bits & (sets/groups − 1))` with `b` = floor(log2 sets) − floor(log2 groups),
 * replacement per row, and HIT/MISS/CONFLICT plus per-set access counts taken on allocating accesses only.
 * @module
 */
import { type Key, LfuRow, OracleRow, type Row } from "./cache_rows.ts";
import type { GlibcRandom } from "./glibc_rand.ts";
import { KeyIds } from "./key_ids.ts";
import { ACCESS_EVICTED, ACCESS_FILLED, ACCESS_HIT, ACCESS_MISS, LruSets } from "./lru_sets.ts";
import { pageKeyBucket } from "./page_key.ts";
import { identityBucket } from "./unordered_order.ts";

/** Replacement policy of a cache. */
export type Policy = "lru" | "lfu" | "oracle";

/** Statistics of one cache, as the reference prints them. */
export interface CacheStats {
  name: string;
  hit: number;
  miss: number;
  conflict: number;
  /** Distinct DIDs that allocated. */
  domains: number;
  /** Accesses per set (row). */
  setAccesses: number[];
}

/** Geometry of one cache. */
export interface CacheGeometry {
  size: number;
  assoc: number;
  groups: number;
}

/** One cache. */
export class Cache {
  readonly sets: number;
  readonly rows: Row[] = [];
  readonly #fridBits: number;
  readonly #frMask: number;
  readonly #grMask: number;
  #hit = 0;
  #miss = 0;
  #conflict = 0;
  readonly #seen = new Uint8Array(65536);
  #domains = 0;
  /** LRU storage (policy lru): every set in flat arrays, O(1) hits and victims; null for LFU/oracle. */
  readonly #lru: LruSets | null;
  readonly #access: Float64Array;
  /** Ids of the keys given to `translate` (LRU policy); lruAccess callers bring their own. */
  #ownIds: KeyIds | null = null;
  /** DIDs allowed to allocate under static partitioning; null = all. */
  cacheable: Set<number> | null = null;

  /**
   * `keys` says how the reference hashes this cache's keys (for LFU/oracle tie order): `sid` (context cache) or
   * `page` ((address, DID) keys).
   */
  constructor(
    readonly name: string,
    g: CacheGeometry,
    policy: Policy,
    rng: GlibcRandom,
    keys: "sid" | "page" = "page",
  ) {
    const bucketOf = keys === "sid" ? identityBucket : pageKeyBucket;
    this.sets = g.assoc === 0 ? 0 : Math.floor(g.size / g.assoc);
    const indexBits = this.sets > 0 ? Math.floor(Math.log2(this.sets)) : 0;
    const groupBits = g.groups > 0 ? Math.floor(Math.log2(g.groups)) : 0;
    this.#fridBits = Math.max(0, indexBits - groupBits);
    this.#frMask = (1 << this.#fridBits) - 1;
    this.#grMask = (1 << groupBits) - 1;
    this.#lru = policy === "lru" ? new LruSets(this.sets, g.assoc) : null;
    for (let i = 0; i < (this.#lru ? 0 : this.sets); i++) {
      this.rows.push(
        policy === "lfu"
          ? new LfuRow(g.assoc, rng, bucketOf, keys === "sid" && this.sets <= 8 ? 65536 : 0)
          : new OracleRow(g.assoc, bucketOf),
      );
    }
    this.#access = new Float64Array(this.sets);
  }

  /** Set index for a request's index bits (address >> shift, or SID) and DID (inlined in translate). */
  index(bits: number, did: number): number {
    return ((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask);
  }

  /** Mask of the address bits (`bits` of translate) that pick a set within a DID group. */
  get indexMask(): number {
    return this.#frMask;
  }

  /** Set-index parameters: set = ((did & groupMask) << groupShift) | (bits & indexMask). */
  get groupMask(): number {
    return this.#grMask;
  }

  /** See groupMask. */
  get groupShift(): number {
    return this.#fridBits;
  }

  /** The LRU storage (policy lru), for the model's fused event loop; null for LFU/oracle. */
  get lru(): LruSets | null {
    return this.#lru;
  }

  /** Whether the policy is LRU (then lruAccess may be used). */
  get isLru(): boolean {
    return this.#lru !== null;
  }

  /**
   * The reference's `Translate(event, alloc)`: looks `key` up (updating replacement state); on a miss with `alloc`
   * inserts it. Hits and misses are counted when `count` (default: `alloc`). For an LRU cache, use either this or
   * lruAccess, not both.
   */
  translate(bits: number, did: number, key: Key, nat: number, alloc: boolean, count: boolean = alloc): boolean {
    if (this.#lru !== null) {
      return this.lruAccess(bits, did, (this.#ownIds ??= new KeyIds()).id(key), false, alloc, count);
    }
    if (this.sets === 0) return false;
    const i = ((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask);
    return this.countAccess(i, did, this.#rowAccess(i, key, nat, alloc), count);
  }

  /**
   * translate for an LRU cache by key id (the model's hot path: integers only). `keyId` comes from one KeyIds shared
   * by every call on this cache; `fixed` promises the key alone decides its set here (its masked address covers the
   * `indexMask` bits), which lets the cache find it without a search.
   */
  lruAccess(bits: number, did: number, keyId: number, fixed: boolean, alloc: boolean, count: boolean): boolean {
    if (this.sets === 0) return false;
    const i = ((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask);
    return this.countAccess(i, did, this.#lru!.access(i, keyId, fixed, alloc), count);
  }

  /** lruAccess without allocating or counting (a plain lookup, which still updates the LRU order on a hit). */
  lruLookup(bits: number, did: number, keyId: number, fixed: boolean): boolean {
    if (this.sets === 0) return false;
    return this.#lru!.access(((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask), keyId, fixed, false) ===
      ACCESS_HIT;
  }

  /** Counts one access result `r` (an LruSets ACCESS_ value) to set `i` for `did`; true on a hit. */
  countAccess(i: number, did: number, r: number, count: boolean): boolean {
    if (count) {
      this.#access[i]++;
      if (r === ACCESS_HIT) this.#hit++;
      else this.#miss++;
    }
    if (r >= ACCESS_FILLED) {
      if (r === ACCESS_EVICTED) this.#conflict++;
      this.#see(did);
    }
    return r === ACCESS_HIT;
  }

  /** LruSets.access for an LFU or oracle row. */
  #rowAccess(i: number, key: Key, nat: number, alloc: boolean): number {
    const row = this.rows[i];
    if (row.lookup(key, nat)) return ACCESS_HIT;
    if (!alloc) return ACCESS_MISS;
    return row.insert(key, nat) ? ACCESS_EVICTED : ACCESS_FILLED;
  }

  #see(did: number): void {
    if (!this.#seen[did]) {
      this.#seen[did] = 1;
      this.#domains++;
    }
  }

  /** Whether `did` may allocate (static partitioning). */
  isCacheable(did: number): boolean {
    return this.cacheable === null || this.cacheable.has(did);
  }

  /** Current statistics. */
  stats(): CacheStats {
    return {
      name: this.name,
      hit: this.#hit,
      miss: this.#miss,
      conflict: this.#conflict,
      domains: this.#domains,
      setAccesses: [...this.#access],
    };
  }
}

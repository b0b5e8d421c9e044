/**
 * A set-associative translation cache as the reference models it: set index
 * `(DID & (groups−1)) << b | (bits & (sets/groups − 1))` with `b` = floor(log2 sets) − floor(log2 groups),
 * replacement per row, and HIT/MISS/CONFLICT plus per-set access counts taken on allocating accesses only.
 * @module
 */
import { type Key, LfuRow, LruRow, OracleRow, type Row, SmallLruRow } from "./cache_rows.ts";
import type { GlibcRandom } from "./glibc_rand.ts";
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
  /** Flat LRU storage (policy lru, ≤ 64 ways): keys and last-use stamps per way, filled ways per set. */
  readonly #flat: boolean;
  readonly #ways: number;
  readonly #fk: Float64Array;
  readonly #ft: Float64Array;
  readonly #fn: Int32Array;
  #clock = 0;
  readonly #access: number[];
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
    this.#ways = g.assoc;
    this.#flat = policy === "lru" && g.assoc <= 64;
    this.#fk = new Float64Array(this.#flat ? this.sets * g.assoc : 0);
    this.#ft = new Float64Array(this.#flat ? this.sets * g.assoc : 0);
    this.#fn = new Int32Array(this.#flat ? this.sets : 0);
    for (let i = 0; i < (this.#flat ? 0 : this.sets); i++) {
      this.rows.push(
        policy === "lru"
          ? (g.assoc <= 48 ? new SmallLruRow(g.assoc) : new LruRow(g.assoc))
          : policy === "lfu"
          ? new LfuRow(g.assoc, rng, bucketOf)
          : new OracleRow(g.assoc, bucketOf),
      );
    }
    this.#access = new Array(this.sets).fill(0);
  }

  /** Set index for a request's index bits (address >> shift, or SID) and DID (inlined in translate). */
  index(bits: number, did: number): number {
    return ((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask);
  }

  /**
   * The reference's `Translate(event, alloc)`: looks `key` up (updating replacement state); on a miss with `alloc`
   * inserts it. Hits and misses are counted when `count` (default: `alloc`).
   */
  translate(bits: number, did: number, key: Key, nat: number, alloc: boolean, count: boolean = alloc): boolean {
    if (this.sets === 0) return false;
    const i = ((did & this.#grMask) << this.#fridBits) | (bits & this.#frMask);
    if (this.#flat) return this.#translateFlat(i, did, key, alloc, count);
    const row = this.rows[i];
    if (row.lookup(key, nat)) {
      if (count) {
        this.#hit++;
        this.#access[i]++;
      }
      return true;
    }
    if (count) {
      this.#miss++;
      this.#access[i]++;
    }
    if (alloc) {
      if (row.insert(key, nat)) this.#conflict++;
      this.#see(did);
    }
    return false;
  }

  /** LRU on flat arrays: same behaviour as LruRow/SmallLruRow (unique stamps order the ways by last use). */
  #translateFlat(i: number, did: number, key: Key, alloc: boolean, count: boolean): boolean {
    const W = this.#ways, base = i * W, n = this.#fn[i], fk = this.#fk, ft = this.#ft;
    for (let j = base, end = base + n; j < end; j++) {
      if (fk[j] === key) {
        ft[j] = ++this.#clock;
        if (count) {
          this.#hit++;
          this.#access[i]++;
        }
        return true;
      }
    }
    if (count) {
      this.#miss++;
      this.#access[i]++;
    }
    if (alloc) {
      if (n === W) {
        let v = base;
        for (let j = base + 1, end = base + W; j < end; j++) if (ft[j] < ft[v]) v = j;
        fk[v] = key;
        ft[v] = ++this.#clock;
        this.#conflict++;
      } else {
        fk[base + n] = key;
        ft[base + n] = ++this.#clock;
        this.#fn[i] = n + 1;
      }
      this.#see(did);
    }
    return false;
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

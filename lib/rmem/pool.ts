/**
 * The memory a server exports: one byte pool carved into page-aligned slices, each granted to one client
 * connection under its own rkey. Every access is checked against the slice its rkey names.
 * @module
 */
import { type Grant, Status } from "./wire.ts";
import { RangeAllocator, type RangeStats } from "./range_allocator.ts";

/** Remote addresses of every pool start here, so that 0 is never a valid remote address. */
export const POOL_BASE = 0x10_0000_0000n;

interface GrantRecord {
  offset: number;
  len: number;
  base: bigint;
  baseNum: number;
  // written byte range [dirtyFrom, dirtyTo) in pool offsets; zeroed on release
  dirtyFrom: number;
  dirtyTo: number;
}

/** Result of a failed lookup: the status to reply with and why. */
export interface AccessDenied {
  status: number;
  message: string;
}

/** A server's exported pool. */
export class MemoryPool {
  /** The pool's bytes. */
  readonly bytes: Uint8Array;
  /** Slice granularity. */
  readonly pageSize: number;
  #pages: RangeAllocator;
  #grants = new Map<number, GrantRecord>();

  constructor(poolBytes: number, pageSize: number) {
    this.pageSize = pageSize;
    this.bytes = new Uint8Array(poolBytes);
    this.#pages = new RangeAllocator(Math.floor(poolBytes / pageSize));
  }

  /** Grants a slice of `requested` bytes (rounded up to pages) or says why not. */
  grant(requested: bigint): Grant | AccessDenied {
    const pages = Number((requested + BigInt(this.pageSize) - 1n) / BigInt(this.pageSize));
    if (requested <= 0n) return { status: Status.PROTOCOL, message: "HELLO must request at least 1 byte" };
    const at = pages > this.#pages.total ? -1 : this.#pages.alloc(pages);
    if (at < 0) {
      const s = this.#pages.stats();
      return {
        status: Status.POOL_EXHAUSTED,
        message: `requested ${requested} bytes (${pages} pages); pool has ${s.free} of ${s.total} pages free, ` +
          `largest free run ${s.largestFree} pages`,
      };
    }
    let rkey = 0;
    while (rkey === 0 || this.#grants.has(rkey)) rkey = crypto.getRandomValues(new Uint32Array(1))[0];
    const offset = at * this.pageSize;
    const len = pages * this.pageSize;
    const base = POOL_BASE + BigInt(offset);
    this.#grants.set(rkey, { offset, len, base, baseNum: Number(base), dirtyFrom: Infinity, dirtyTo: 0 });
    return { base, len: BigInt(len), rkey, pageSize: this.pageSize };
  }

  /** Returns a slice to the pool and zeroes what was written, so the next client never sees old data. */
  release(rkey: number): void {
    const g = this.#grants.get(rkey);
    if (!g) return;
    this.#grants.delete(rkey);
    if (g.dirtyTo > g.dirtyFrom) this.bytes.fill(0, g.dirtyFrom, g.dirtyTo);
    this.#pages.free(g.offset / this.pageSize, g.len / this.pageSize);
  }

  /**
   * Byte offset in `bytes` of `[addr, addr + len)` under `rkey`, or why the access is denied. `forWrite` records
   * the range as written.
   */
  locate(rkey: number, addr: bigint, len: number, forWrite = false): number | AccessDenied {
    const g = this.#grants.get(rkey);
    if (!g) return { status: Status.BAD_RKEY, message: `rkey 0x${rkey.toString(16)} is not a live grant` };
    // pool addresses are below 2^53, so Numbers compare them exactly; larger ones stay larger as Numbers
    const a = Number(addr);
    if (a < g.baseNum || a + len > g.baseNum + g.len) {
      return {
        status: Status.OUT_OF_BOUNDS,
        message: `[0x${addr.toString(16)}, +${len}) is outside the grant [0x${g.base.toString(16)}, +${g.len})`,
      };
    }
    const at = g.offset + (a - g.baseNum);
    if (forWrite) {
      if (at < g.dirtyFrom) g.dirtyFrom = at;
      if (at + len > g.dirtyTo) g.dirtyTo = at + len;
    }
    return at;
  }

  /** Number of live grants. */
  get grants(): number {
    return this.#grants.size;
  }

  /** Page usage of the pool. */
  stats(): RangeStats {
    return this.#pages.stats();
  }
}

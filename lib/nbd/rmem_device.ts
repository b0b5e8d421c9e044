/**
 * A block device whose 4 KiB blocks live in rmem regions: a block gets a region on its first write (thin
 * provisioning), trim frees it (one-sided), and a block whose memory server died fails its reads with EIO —
 * never zeros. Blocks never written read as zeros without a round trip.
 *
 * Whole-block writes are write-back (as NBD allows without FUA): acknowledged once queued on the memory server's
 * ordered connection, so a later read of the block is served after the write; at most {@link WRITE_BACK_LIMIT}
 * are unacknowledged by the servers at a time. A write-back write that fails marks its block failed (reads give
 * EIO until it is rewritten, never stale bytes) and makes the next flush fail with EIO naming it. FUA writes and
 * flush wait for the servers.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { PoolExhaustedError, RemoteMemoryLostError, type RemoteRegion, type RmemClient } from "../rmem/mod.ts";
import { BLOCK_BYTES, type BlockBackend, BlockIoError, type ReadSink } from "./backend.ts";
import { NbdErr } from "./protocol.ts";

/** Block size of the device. */
export const BLOCK = BLOCK_BYTES;
/** What never-written blocks read as. */
const ZEROS = new Uint8Array(BLOCK);
/** Whole-block writes acknowledged to the NBD client but not yet by a memory server, at most. */
export const WRITE_BACK_LIMIT = 256;

/** Where the blocks of a device are. */
export interface DeviceUsage {
  /** Blocks in the device. */
  blocks: number;
  /** Blocks backed by a remote region. */
  allocated: number;
  /** Blocks whose region was on a server that died. */
  lost: number;
}

/** A block device backed by remote memory. */
export class RmemBlockDevice implements BlockBackend {
  readonly size: number;
  #client: RmemClient;
  #blocks: (RemoteRegion | undefined)[];
  #writes = new Set<Promise<unknown>>();
  #writeBack = 0;
  #writeBackIdle: (() => void)[] = [];
  /** Blocks whose write-back write failed: reads give EIO until a write succeeds; reported by the next flush. */
  #failed = new Map<number, string>();
  #unreported: string[] = [];

  /** A device of `size` bytes (a multiple of 4096) whose blocks live in `client`'s remote memory. */
  constructor(client: RmemClient, size: number) {
    if (!Number.isSafeInteger(size) || size <= 0 || size % BLOCK !== 0) {
      throw new InputError("size", `a positive multiple of ${BLOCK} bytes`, size, { where: "rmem block device" });
    }
    this.size = size;
    this.#client = client;
    this.#blocks = new Array(size / BLOCK);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.#checkFailed(offset, length);
    if (length === BLOCK && offset % BLOCK === 0) {
      // one whole block: the reply's bytes are the block, no gathering
      const b = offset / BLOCK;
      const r = this.#blocks[b];
      return r ? await this.#client.read(r, 0, BLOCK).catch((e) => this.#fail(e, b)) : new Uint8Array(BLOCK);
    }
    const out = new Uint8Array(length);
    const parts: Promise<void>[] = [];
    this.#each(offset, length, (b, inBlock, n, at) => {
      const r = this.#blocks[b];
      if (r) parts.push(this.#client.read(r, inBlock, n).then((d) => out.set(d, at), (e) => this.#fail(e, b)));
    });
    await Promise.all(parts);
    return out;
  }

  readInto(offset: number, length: number, sink: ReadSink): Promise<void> {
    try {
      this.#checkFailed(offset, length);
    } catch (e) {
      return Promise.reject(e);
    }
    if (length === BLOCK && offset % BLOCK === 0) {
      const b = offset / BLOCK;
      const r = this.#blocks[b];
      if (!r) {
        sink(ZEROS, 0);
        return Promise.resolve();
      }
      return this.#client.readInto(r, 0, BLOCK, (v) => sink(v, 0)).catch((e) => this.#fail(e, b));
    }
    const parts: Promise<void>[] = [];
    this.#each(offset, length, (b, inBlock, n, at) => {
      const r = this.#blocks[b];
      if (r) parts.push(this.#client.readInto(r, inBlock, n, (v) => sink(v, at)).catch((e) => this.#fail(e, b)));
      else sink(ZEROS.subarray(0, n), at);
    });
    return Promise.all(parts).then(() => {});
  }

  readBlock(block: number, sink: (view: Uint8Array) => void, fail: (e: unknown) => void): void {
    const r = this.#blocks[block];
    if (this.#failed.size && this.#failed.has(block)) queueMicrotask(() => fail(this.#failedError(block)));
    else if (r) this.#client.readWith(r, 0, BLOCK, sink, fail);
    else sink(ZEROS);
  }

  writeBlock(block: number, data: Uint8Array, done: () => void, fail: (e: unknown) => void, fua = false): void {
    let r: RemoteRegion;
    try {
      r = this.#blockFor(block);
    } catch (e) {
      fail(e);
      return;
    }
    if (fua || this.#writeBack >= WRITE_BACK_LIMIT) {
      this.#client.writeWith(r, 0, data, () => {
        this.#failed.delete(block);
        done();
      }, fail);
      return;
    }
    this.#writeBack++;
    this.#client.writeWith(r, 0, data, () => {
      this.#failed.delete(block);
      this.#writeBackSettled();
    }, (e) => {
      const why = `block ${block}: write-back write failed: ${e.message}`;
      this.#failed.set(block, why);
      this.#unreported.push(why);
      this.#writeBackSettled();
    });
    done();
  }

  #writeBackSettled(): void {
    if (--this.#writeBack === 0 && this.#writeBackIdle.length) {
      for (const f of this.#writeBackIdle.splice(0)) f();
    }
  }

  /** Throws the EIO of the first failed block in `[offset, offset + length)`. */
  #checkFailed(offset: number, length: number): void {
    if (this.#failed.size === 0) return;
    for (let b = Math.floor(offset / BLOCK); b * BLOCK < offset + length; b++) {
      if (this.#failed.has(b)) throw this.#failedError(b);
    }
  }

  #failedError(block: number): BlockIoError {
    return new BlockIoError(NbdErr.EIO, this.#failed.get(block)!);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    try {
      if (data.length === BLOCK && offset % BLOCK === 0) return this.#writeBlock(offset / BLOCK, data);
      return this.#track(this.#write(offset, data));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The region of block `b` for a whole-block overwrite: allocated on first write, moved off a dead server. */
  #blockFor(b: number): RemoteRegion {
    const r = this.#blocks[b];
    if (r && !this.#client.isLost(r)) return r;
    if (r) {
      // a full overwrite of a lost block relocates it to a live server
      this.#client.free(r);
      this.#blocks[b] = undefined;
    }
    return this.#blocks[b] = this.#alloc(b);
  }

  /** One whole block: no splitting, one request. */
  #writeBlock(b: number, data: Uint8Array): Promise<void> {
    const r = this.#blockFor(b);
    // tracked for flush and mapped to an NBD error in one step
    const t: Promise<void> = this.#client.write(r, 0, data).then(() => {
      this.#writes.delete(t);
      this.#failed.delete(b);
    }, (e) => {
      this.#writes.delete(t);
      this.#fail(e, b);
    });
    this.#writes.add(t);
    return t;
  }

  #write(offset: number, data: Uint8Array): Promise<void> {
    const parts: Promise<void>[] = [];
    this.#each(offset, data.length, (b, inBlock, n, at) => {
      let r = this.#blocks[b];
      if (r && n === BLOCK && this.#client.isLost(r)) {
        // a full overwrite of a lost block relocates it to a live server
        this.#client.free(r);
        r = this.#blocks[b] = undefined;
      }
      const chunk = data.subarray(at, at + n);
      if (!r) {
        r = this.#blocks[b] = this.#alloc(b);
        let page = chunk;
        if (n !== BLOCK) {
          page = new Uint8Array(BLOCK);
          page.set(chunk, inBlock);
        }
        parts.push(this.#client.write(r, 0, page).catch((e) => this.#fail(e, b)));
      } else {
        parts.push(this.#client.write(r, inBlock, chunk).catch((e) => this.#fail(e, b)));
      }
    });
    return parts.length === 1 ? parts[0] : Promise.all(parts).then(() => {});
  }

  trim(offset: number, length: number): Promise<void> {
    this.#each(offset, length, (b, _inBlock, n) => {
      const r = this.#blocks[b];
      if (n !== BLOCK) return;
      this.#failed.delete(b);
      if (r) {
        this.#client.free(r);
        this.#blocks[b] = undefined;
      }
    });
    return Promise.resolve();
  }

  writeZeroes(offset: number, length: number): Promise<void> {
    const parts: Promise<void>[] = [];
    this.#each(offset, length, (b, inBlock, n) => {
      const r = this.#blocks[b];
      if (n === BLOCK) this.#failed.delete(b);
      if (!r) return;
      if (n === BLOCK) {
        this.#client.free(r);
        this.#blocks[b] = undefined;
      } else {
        parts.push(this.#client.write(r, inBlock, new Uint8Array(n)).catch((e) => this.#fail(e, b)));
      }
    });
    return this.#track(Promise.all(parts).then(() => {}));
  }

  /** Waits for every write so far to reach its memory server; fails with EIO naming write-back writes that failed. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes]);
    if (this.#writeBack > 0) await new Promise<void>((r) => this.#writeBackIdle.push(r));
    if (this.#unreported.length) {
      const failed = this.#unreported.splice(0);
      throw new BlockIoError(
        NbdErr.EIO,
        `${failed.length} acknowledged write(s) did not reach remote memory: ${failed.slice(0, 4).join("; ")}` +
          (failed.length > 4 ? "; …" : ""),
      );
    }
  }

  /** Allocation and loss counts. */
  usage(): DeviceUsage {
    let allocated = 0, lost = 0;
    for (const r of this.#blocks) {
      if (!r) continue;
      allocated++;
      if (this.#client.isLost(r)) lost++;
    }
    return { blocks: this.#blocks.length, allocated, lost };
  }

  /** Numbers of the blocks whose data was lost with a dead memory server. */
  lostBlocks(): number[] {
    const out: number[] = [];
    this.#blocks.forEach((r, b) => r && this.#client.isLost(r) && out.push(b));
    return out;
  }

  /** Frees every block's region. */
  release(): void {
    for (const [b, r] of this.#blocks.entries()) {
      if (r) this.#client.free(r);
      this.#blocks[b] = undefined;
    }
  }

  /** Remembers `p` until it settles, for flush. */
  #track(p: Promise<void>): Promise<void> {
    const t: Promise<void> = p.finally(() => this.#writes.delete(t));
    this.#writes.add(t);
    return t;
  }

  #alloc(block: number): RemoteRegion {
    try {
      return this.#client.alloc(BLOCK);
    } catch (e) {
      if (e instanceof PoolExhaustedError) throw new BlockIoError(NbdErr.ENOSPC, `block ${block}: ${e.message}`);
      throw e;
    }
  }

  #fail(e: unknown, block: number): never {
    if (e instanceof RemoteMemoryLostError) {
      throw new BlockIoError(NbdErr.EIO, `block ${block}: ${e.message}`, { cause: e });
    }
    throw new BlockIoError(NbdErr.EIO, `block ${block}: ${(e as Error).message}`, { cause: e });
  }

  /** Calls `fn(block, offsetInBlock, bytes, offsetInRange)` for each block `[offset, offset + length)` touches. */
  #each(offset: number, length: number, fn: (b: number, inBlock: number, n: number, at: number) => void): void {
    let at = 0;
    while (at < length) {
      const pos = offset + at;
      const b = Math.floor(pos / BLOCK);
      const inBlock = pos - b * BLOCK;
      const n = Math.min(BLOCK - inBlock, length - at);
      fn(b, inBlock, n, at);
      at += n;
    }
  }
}

/**
 * A block device whose 4 KiB blocks live in rmem regions: a block gets a region on its first write (thin
 * provisioning), trim frees it (one-sided), and a block whose memory server died fails its reads with EIO —
 * never zeros. Blocks never written read as zeros without a round trip.
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
    if (r) this.#client.readWith(r, 0, BLOCK, sink, fail);
    else sink(ZEROS);
  }

  writeBlock(block: number, data: Uint8Array, done: () => void, fail: (e: unknown) => void): void {
    let r: RemoteRegion;
    try {
      r = this.#blockFor(block);
    } catch (e) {
      fail(e);
      return;
    }
    this.#client.writeWith(r, 0, data, done, fail);
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
      if (r && n === BLOCK) {
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

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes]);
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

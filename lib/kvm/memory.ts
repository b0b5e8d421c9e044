/**
 * Guest memory backed by memfds, and copy-on-write snapshots of it for cloning.
 *
 * A snapshot is a list of extents, each a range of guest memory backed by a memfd that nobody writes any more
 * (at the same offset in the file). Memory made from a snapshot maps every extent MAP_PRIVATE, so its writes stay
 * its own. Snapshotting fresh memory turns its memfd into the snapshot (no copy). Snapshotting memory that already
 * maps a snapshot writes only the pages it changed since (found in /proc/self/pagemap) into a new sparse memfd and
 * layers that over the old extents; after many layers the snapshot is compacted into one memfd.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { toCString } from "../ffi/loader.ts";
import { EBADF } from "./fd.ts";
import { kvmShim, toPointer } from "./ffi.ts";

const PAGE = 4096;
/** More extents than this and the next snapshot is compacted into a single memfd. */
const MAX_EXTENTS = 256;

/** A memfd shared by snapshots and memories; closed when the last holder releases it. */
class SharedFile {
  #refs = 1;
  constructor(readonly fd: number) {}
  retain(): this {
    this.#refs++;
    return this;
  }
  release(): void {
    if (--this.#refs === 0) kvmShim().hl_close(this.fd);
  }
}

/** A range of guest memory [start, start+length) backed by `file` at the same offset. */
interface Extent {
  start: number;
  length: number;
  file: SharedFile;
}

function retainAll(extents: Extent[]): Extent[] {
  new Set(extents.map((e) => e.file)).forEach((f) => f.retain());
  return extents;
}

function releaseAll(extents: Extent[]): void {
  new Set(extents.map((e) => e.file)).forEach((f) => f.release());
}

/** A frozen copy of guest memory. Memory made from it with GuestMemory.fromSnapshot shares its pages copy-on-write. */
export class MemorySnapshot implements Disposable {
  /** Size in bytes. */
  readonly size: number;
  #extents: Extent[] | undefined;

  /** Takes over one reference to each file in `extents`. */
  constructor(size: number, extents: Extent[]) {
    this.size = size;
    this.#extents = extents;
  }

  /** True once closed (memory mapped from it stays valid). */
  get closed(): boolean {
    return this.#extents === undefined;
  }

  /** Number of extents (1 for a first snapshot; grows with layered snapshots until compaction). */
  get extentCount(): number {
    return this.#extents?.length ?? 0;
  }

  /** The extents (throws EBADF once closed). */
  extents(): Extent[] {
    if (!this.#extents) throw new ErrnoError("memory snapshot", EBADF, "snapshot is closed");
    return this.#extents;
  }

  /** Releases the memfds; mappings made from them stay valid. Idempotent. */
  close(): void {
    if (!this.#extents) return;
    releaseAll(this.#extents);
    this.#extents = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function addr(p: Deno.PointerObject, offset = 0): bigint {
  return BigInt(Deno.UnsafePointer.value(p)) + BigInt(offset);
}

function map(fd: number, length: number, opts: { private: boolean; at?: bigint; offset?: number }): Deno.PointerObject {
  const r = kvmShim().hl_mmap_at(fd, BigInt(length), opts.private ? 1 : 0, opts.at ?? 0n, BigInt(opts.offset ?? 0));
  return toPointer(r, (e) => {
    throw new ErrnoError(`mmap ${opts.private ? "MAP_PRIVATE" : "MAP_SHARED"} ${length} bytes`, e);
  });
}

function newMemfd(name: string, size: number): number {
  return check("memfd_create", kvmShim().hl_memfd(toCString(name), BigInt(size)));
}

/** Replaces pages marked in `bitmap` in `extents` with `file`; returns the new extents (adjacent runs merged). */
function layer(extents: Extent[], bitmap: Uint8Array, pages: number, file: SharedFile): Extent[] {
  const out: Extent[] = [];
  const push = (start: number, length: number, f: SharedFile) => {
    const last = out.at(-1);
    if (last && last.file === f && last.start + last.length === start) last.length += length;
    else out.push({ start, length, file: f });
  };
  for (const e of extents) {
    let p = e.start / PAGE;
    const end = (e.start + e.length) / PAGE;
    while (p < end) {
      const dirty = (bitmap[p >> 3] & (1 << (p & 7))) !== 0;
      let q = p + 1;
      while (q < end && ((bitmap[q >> 3] & (1 << (q & 7))) !== 0) === dirty) q++;
      push(p * PAGE, (q - p) * PAGE, dirty ? file : e.file);
      p = q;
    }
  }
  if (out.reduce((n, e) => n + e.length, 0) !== pages * PAGE) throw new Error("internal: extents do not cover memory");
  return out;
}

/** Guest RAM: a host mapping of `size` bytes, sparse until touched. `using mem = GuestMemory.create(size)`. */
export class GuestMemory implements Disposable {
  /** Size in bytes. */
  readonly size: number;
  #ptr: Deno.PointerObject | null;
  /** memfd this memory writes through to (fresh memory only; -1 once it maps snapshot extents privately). */
  #ownFd: number;
  /** Extents this memory maps privately (one reference held per file). */
  #extents: Extent[] = [];
  /** The last snapshot this memory made (closed when replaced or when this memory closes). */
  #snapshot: MemorySnapshot | undefined;
  #view: Uint8Array<ArrayBuffer> | undefined;

  private constructor(size: number, ptr: Deno.PointerObject, ownFd: number) {
    this.size = size;
    this.#ptr = ptr;
    this.#ownFd = ownFd;
  }

  /** Fresh zeroed memory of `size` bytes (a multiple of 4096) on its own memfd. */
  static create(size: number, name = "hyperlab-guest"): GuestMemory {
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0) {
      throw new InputError("size", "a positive multiple of 4096 bytes", size);
    }
    const fd = newMemfd(name, size);
    try {
      return new GuestMemory(size, map(fd, size, { private: false }), fd);
    } catch (e) {
      kvmShim().hl_close(fd);
      throw e;
    }
  }

  /** A copy-on-write view of a snapshot: reads see the snapshot, writes are private to this memory. */
  static fromSnapshot(snap: MemorySnapshot): GuestMemory {
    const extents = snap.extents();
    const whole = extents.length === 1;
    // one extent maps directly; several are placed over a reservation of the whole range
    const ptr = whole ? map(extents[0].file.fd, snap.size, { private: true }) : map(-1, snap.size, { private: true });
    const mem = new GuestMemory(snap.size, ptr, -1);
    try {
      if (!whole) {
        for (const e of extents) map(e.file.fd, e.length, { private: true, at: addr(ptr, e.start), offset: e.start });
      }
    } catch (e) {
      kvmShim().hl_munmap(ptr, BigInt(snap.size));
      throw e;
    }
    mem.#extents = retainAll([...extents.map((e) => ({ ...e }))]);
    return mem;
  }

  /** Host address of the mapping (for KVM_SET_USER_MEMORY_REGION). */
  get pointer(): Deno.PointerObject {
    if (!this.#ptr) throw new ErrnoError("guest memory", EBADF, "memory is closed");
    return this.#ptr;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#ptr === null;
  }

  /** The bytes of guest memory. Do not keep the view past close(). */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#view ??= new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(this.pointer, this.size));
  }

  /** Copies `data` into guest memory at `offset`, checking bounds. */
  write(offset: number, data: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > this.size) {
      throw new InputError("offset", `a range inside guest memory (0..${this.size})`, offset);
    }
    this.bytes().set(data, offset);
  }

  /** Pages this memory wrote since it last mapped snapshot extents (copy-on-write copies), as a bitmap. */
  privatePages(): { bitmap: Uint8Array<ArrayBuffer>; count: number } {
    const bitmap = new Uint8Array(Math.ceil(this.size / PAGE / 8));
    const n = Number(
      check("read /proc/self/pagemap", kvmShim().hl_anon_pages(this.pointer, BigInt(this.size), bitmap)),
    );
    return { bitmap, count: this.#ownFd >= 0 ? 0 : n };
  }

  /**
   * Freezes the current contents as a snapshot and continues copy-on-write over it. The host address stays the
   * same, so KVM memory slots stay valid (KVM follows the remap through its MMU notifier). The vCPUs using this
   * memory must not be running. The snapshot stays valid until this memory snapshots again or closes.
   */
  snapshot(): MemorySnapshot {
    const ptr = this.pointer;
    let extents: Extent[];
    if (this.#ownFd >= 0) {
      const file = new SharedFile(this.#ownFd);
      map(file.fd, this.size, { private: true, at: addr(ptr) });
      this.#ownFd = -1;
      extents = [{ start: 0, length: this.size, file }];
    } else {
      extents = this.#layerPrivatePages(ptr);
    }
    const old = this.#extents;
    this.#extents = retainAll(extents.map((e) => ({ ...e })));
    releaseAll(old);
    this.#snapshot?.close();
    return this.#snapshot = new MemorySnapshot(this.size, extents);
  }

  /** Writes this memory's private pages into a new memfd and remaps them from it; returns the new extents. */
  #layerPrivatePages(ptr: Deno.PointerObject): Extent[] {
    const k = kvmShim();
    const pages = this.size / PAGE;
    const { bitmap, count } = this.privatePages();
    const compact = this.#extents.length >= MAX_EXTENTS;
    if (count === 0 && !compact) return retainAll(this.#extents.map((e) => ({ ...e })));
    const fd = newMemfd("hyperlab-snapshot", this.size);
    const file = new SharedFile(fd);
    try {
      if (compact) {
        check("write snapshot", k.hl_write_all(fd, ptr, BigInt(this.size)));
        map(fd, this.size, { private: true, at: addr(ptr) });
        return [{ start: 0, length: this.size, file }];
      }
      check("write snapshot pages", k.hl_write_pages(fd, ptr, bitmap, BigInt(pages)));
      const extents = layer(this.#extents, bitmap, pages, file);
      for (const e of extents) {
        if (e.file === file) map(fd, e.length, { private: true, at: addr(ptr, e.start), offset: e.start });
      }
      new Set(extents.map((e) => e.file)).forEach((f) => f !== file && f.retain());
      return extents;
    } catch (e) {
      file.release();
      throw e;
    }
  }

  /** Unmaps; releases the memfds and the last snapshot this memory made. Idempotent. */
  close(): void {
    if (!this.#ptr) return;
    const k = kvmShim();
    k.hl_munmap(this.#ptr, BigInt(this.size));
    this.#ptr = null;
    this.#view = undefined;
    if (this.#ownFd >= 0) k.hl_close(this.#ownFd);
    this.#ownFd = -1;
    releaseAll(this.#extents);
    this.#extents = [];
    this.#snapshot?.close();
    this.#snapshot = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

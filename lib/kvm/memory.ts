/**
 * Guest memory backed by a memfd, and copy-on-write snapshots of it for cloning: a snapshot is a memfd nobody
 * writes any more; the parent and every child map it MAP_PRIVATE, so each one's writes stay its own.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { toCString } from "../ffi/loader.ts";
import { EBADF } from "./fd.ts";
import { kvmShim, toPointer } from "./ffi.ts";

const PAGE = 4096;

/** A frozen copy of guest memory (a memfd no mapping writes to). Owned by the memory that made it. */
export class MemorySnapshot implements Disposable {
  #fd: number;
  /** Size in bytes. */
  readonly size: number;

  constructor(fd: number, size: number) {
    this.#fd = fd;
    this.size = size;
  }

  /** The memfd (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** Closes the memfd; mappings made from it stay valid. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    kvmShim().hl_close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function mapOrThrow(fd: number, size: number, priv: boolean, fixed: Deno.PointerObject | null): Deno.PointerObject {
  const fixedAddr = fixed ? BigInt(Deno.UnsafePointer.value(fixed)) : 0n;
  return toPointer(kvmShim().hl_mmap(fd, BigInt(size), priv ? 1 : 0, fixedAddr), (e) => {
    throw new ErrnoError(`mmap ${priv ? "MAP_PRIVATE" : "MAP_SHARED"} ${size} bytes`, e);
  });
}

/** Guest RAM: a host mapping of `size` bytes, sparse until touched. `using mem = GuestMemory.create(size)`. */
export class GuestMemory implements Disposable {
  /** Size in bytes. */
  readonly size: number;
  #ptr: Deno.PointerObject | null;
  /** memfd this memory writes through to (fresh memory only; -1 once it maps a snapshot privately). */
  #ownFd: number;
  /** The snapshot this memory maps privately (owned when this memory created it). */
  #base: MemorySnapshot | undefined;
  #ownsBase = false;
  #view: Uint8Array<ArrayBuffer> | undefined;

  private constructor(size: number, ptr: Deno.PointerObject, ownFd: number, base?: MemorySnapshot) {
    this.size = size;
    this.#ptr = ptr;
    this.#ownFd = ownFd;
    this.#base = base;
  }

  /** Fresh zeroed memory of `size` bytes (a multiple of 4096) on its own memfd. */
  static create(size: number, name = "hyperlab-guest"): GuestMemory {
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0) {
      throw new InputError("size", "a positive multiple of 4096 bytes", size);
    }
    const k = kvmShim();
    const fd = check("memfd_create", k.hl_memfd(toCString(name), BigInt(size)));
    try {
      return new GuestMemory(size, mapOrThrow(fd, size, false, null), fd);
    } catch (e) {
      k.hl_close(fd);
      throw e;
    }
  }

  /** A copy-on-write view of a snapshot: reads see the snapshot, writes are private to this memory. */
  static fromSnapshot(snap: MemorySnapshot): GuestMemory {
    if (snap.fd < 0) throw new ErrnoError("map snapshot", EBADF, "snapshot is closed");
    return new GuestMemory(snap.size, mapOrThrow(snap.fd, snap.size, true, null), -1, snap);
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

  /**
   * Freezes the current contents as a snapshot and continues copy-on-write over it. Fresh memory turns its own
   * memfd into the snapshot (no copy); memory that already maps a snapshot privately is written into a new memfd
   * (one copy). The host address stays the same, so KVM memory slots stay valid (KVM follows the remap).
   * The vCPUs using this memory must not be running.
   */
  snapshot(): MemorySnapshot {
    const k = kvmShim();
    const ptr = this.pointer;
    let fd = this.#ownFd;
    if (fd < 0) {
      fd = check("memfd_create", k.hl_memfd(toCString("hyperlab-snapshot"), BigInt(this.size)));
      const r = k.hl_write_all(fd, ptr, BigInt(this.size));
      if (r < 0) {
        k.hl_close(fd);
        check("write snapshot", r);
      }
    }
    const snap = new MemorySnapshot(fd, this.size);
    try {
      mapOrThrow(fd, this.size, true, ptr);
    } catch (e) {
      if (fd !== this.#ownFd) snap.close();
      throw e;
    }
    if (this.#ownsBase) this.#base?.close();
    this.#ownFd = -1;
    this.#base = snap;
    this.#ownsBase = true;
    return snap;
  }

  /** Unmaps; closes the memfd and any snapshot this memory made. Idempotent. */
  close(): void {
    if (!this.#ptr) return;
    const k = kvmShim();
    k.hl_munmap(this.#ptr, BigInt(this.size));
    this.#ptr = null;
    this.#view = undefined;
    if (this.#ownFd >= 0) k.hl_close(this.#ownFd);
    this.#ownFd = -1;
    if (this.#ownsBase) this.#base?.close();
    this.#base = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

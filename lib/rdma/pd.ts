/** Protection domains and the memory regions registered in them. */
import { InputError } from "../core/errors.ts";
import { check } from "../ffi/errno.ts";
import { type Access, accessMask } from "./access.ts";
import type { CompletionQueue } from "./cq.ts";
import { verbsShim } from "./ffi.ts";
import { QueuePair, type QueuePairOptions } from "./qp.ts";
import { VerbsResource } from "./resource.ts";

/** A protection domain (ibv_pd). */
export class ProtectionDomain extends VerbsResource {
  readonly kind = "PD";

  /** Use `RdmaDevice.allocPd`. */
  constructor(parent: VerbsResource, handle: bigint) {
    super(handle, [parent]);
  }

  /**
   * Registers `bytes` (memory owned by JavaScript, whose backing store never moves) for RDMA with `access`.
   * The region keeps `bytes` alive until it is closed.
   */
  registerMemory(bytes: Uint8Array, access: Access[] = ["local-write"]): MemoryRegion {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new InputError("bytes", "a non-empty Uint8Array", bytes);
    }
    const addr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes));
    const out = new BigUint64Array(1);
    const keys = new Uint32Array(2);
    check(
      "ibv_reg_mr",
      verbsShim().hl_verbs_reg_mr(
        this.handle,
        BigInt(addr),
        BigInt(bytes.length),
        accessMask(access),
        new Uint8Array(out.buffer),
        new Uint8Array(keys.buffer),
      ),
    );
    return new MemoryRegion(this, out[0], bytes, BigInt(addr), keys[0], keys[1]);
  }

  /** Creates a reliable-connected queue pair completing into `sendCq` and `recvCq`. */
  createRcQp(sendCq: CompletionQueue, recvCq: CompletionQueue, options: QueuePairOptions = {}): QueuePair {
    return QueuePair.create(this, this.handle, sendCq, recvCq, options);
  }

  protected release(handle: bigint): void {
    check("ibv_dealloc_pd", verbsShim().hl_verbs_dealloc_pd(handle));
  }
}

/** A registered memory region (ibv_mr). */
export class MemoryRegion extends VerbsResource {
  readonly kind = "MR";
  /** The registered bytes. */
  readonly bytes: Uint8Array;
  /** Address of the first byte (what a peer puts in RDMA READ/WRITE with `rkey`). */
  readonly addr: bigint;
  /** Local key, for local scatter/gather entries. */
  readonly lkey: number;
  /** Remote key, for peers' RDMA READ/WRITE. */
  readonly rkey: number;

  /** Use `ProtectionDomain.registerMemory`. */
  constructor(parent: VerbsResource, handle: bigint, bytes: Uint8Array, addr: bigint, lkey: number, rkey: number) {
    super(handle, [parent]);
    this.bytes = bytes;
    this.addr = addr;
    this.lkey = lkey;
    this.rkey = rkey;
  }

  /** `{ addr, len, lkey }` of `[offset, offset + len)`, bounds-checked. */
  slice(offset: number, len: number): { addr: bigint; len: number; lkey: number } {
    if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len < 0) {
      throw new InputError("offset/len", "non-negative integers", { offset, len });
    }
    if (offset + len > this.bytes.length) {
      throw new InputError("len", `offset + len <= ${this.bytes.length}`, offset + len);
    }
    return { addr: this.addr + BigInt(offset), len, lkey: this.lkey };
  }

  protected release(handle: bigint): void {
    check("ibv_dereg_mr", verbsShim().hl_verbs_dereg_mr(handle));
  }
}

/** A VM fd: guest memory slots with dirty logging, irqchip, TSS, ioeventfd, vCPU creation. */
import { InputError } from "../core/errors.ts";
import { check } from "../ffi/errno.ts";
import { OwnedFd } from "./fd.ts";
import { kvmShim } from "./ffi.ts";
import type { Kvm } from "./system.ts";
import { Vcpu } from "./vcpu.ts";

/** KVM_MEM_LOG_DIRTY_PAGES. */
const LOG_DIRTY = 1;
const PAGE = 4096;

/** One guest memory slot. */
export interface MemoryRegion {
  /** Slot number (0..32763 here; see KVM_CAP_NR_MEMSLOTS). */
  slot: number;
  /** Guest-physical address, page aligned. */
  guestAddr: number;
  /** Size in bytes, page aligned, > 0. */
  size: number;
  /** Host mapping backing the slot. */
  host: Deno.PointerObject;
  /** Track writes for dirtyLog(). */
  logDirty?: boolean;
}

/** An eventfd that KVM signals on guest writes to a port or MMIO address (KVM_IOEVENTFD). */
export class IoEventFd extends OwnedFd {
  readonly #unregister: () => void;
  constructor(fd: number, unregister: () => void) {
    super(fd);
    this.#unregister = unregister;
  }

  /** Reads and resets the counter: how many matching writes happened since the last read (0 when none). */
  take(): number {
    const buf = new BigUint64Array(1);
    const r = kvmShim().hl_eventfd_read(this.fd, new Uint8Array(buf.buffer));
    if (r === -11) return 0;
    check("eventfd read", r);
    return Number(buf[0]);
  }

  protected override beforeClose(): void {
    this.#unregister();
  }
}

function assertAligned(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v % PAGE !== 0) {
    throw new InputError(field, "a non-negative multiple of 4096", v);
  }
}

/** A KVM virtual machine. Closing it closes its vCPUs first; close is idempotent. */
export class Vm extends OwnedFd {
  readonly #kvm: Kvm;
  readonly #onClose: () => void;
  readonly #regions = new Map<number, MemoryRegion>();

  /** Use Kvm.createVm(). */
  constructor(fd: number, kvm: Kvm, onClose: () => void = () => {}) {
    super(fd);
    this.#kvm = kvm;
    this.#onClose = onClose;
  }

  /** The system device this VM came from. */
  get kvm(): Kvm {
    return this.#kvm;
  }

  /** KVM_SET_TSS_ADDR (Intel needs three pages below 4 GiB outside guest RAM for real-mode emulation). */
  setTssAddr(addr: number): void {
    check("KVM_SET_TSS_ADDR", kvmShim().hl_vm_set_tss_addr(this.fd, BigInt(addr)));
  }

  /** KVM_SET_IDENTITY_MAP_ADDR (one page, Intel). */
  setIdentityMapAddr(addr: number): void {
    check("KVM_SET_IDENTITY_MAP_ADDR", kvmShim().hl_vm_set_identity_map_addr(this.fd, BigInt(addr)));
  }

  /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs (then HLT no longer exits to userspace). */
  createIrqchip(): void {
    check("KVM_CREATE_IRQCHIP", kvmShim().hl_vm_create_irqchip(this.fd));
  }

  /** KVM_SET_USER_MEMORY_REGION: maps host memory into the guest (replacing the slot's previous mapping). */
  setMemoryRegion(region: MemoryRegion): void {
    if (!Number.isInteger(region.slot) || region.slot < 0 || region.slot > 0x7fff) {
      throw new InputError("slot", "an integer 0..32767", region.slot);
    }
    assertAligned("guestAddr", region.guestAddr);
    assertAligned("size", region.size);
    if (region.size === 0) throw new InputError("size", "> 0 (use removeMemoryRegion to delete a slot)", 0);
    const flags = region.logDirty ? LOG_DIRTY : 0;
    check(
      "KVM_SET_USER_MEMORY_REGION",
      kvmShim().hl_vm_set_memory(
        this.fd,
        region.slot,
        flags,
        BigInt(region.guestAddr),
        BigInt(region.size),
        region.host,
      ),
    );
    this.#regions.set(region.slot, { ...region });
  }

  /** Deletes a slot (KVM_SET_USER_MEMORY_REGION with size 0). */
  removeMemoryRegion(slot: number): void {
    const r = this.#regions.get(slot);
    if (!r) {
      throw new InputError("slot", `a slot set on this VM (${[...this.#regions.keys()].join(", ") || "none"})`, slot);
    }
    check("KVM_SET_USER_MEMORY_REGION", kvmShim().hl_vm_set_memory(this.fd, slot, 0, BigInt(r.guestAddr), 0n, null));
    this.#regions.delete(slot);
  }

  /** The slots set on this VM. */
  regions(): MemoryRegion[] {
    return [...this.#regions.values()];
  }

  /** KVM_GET_DIRTY_LOG: the bitmap (bit per 4 KiB page) of pages written since the last call; resets it. */
  dirtyLog(slot: number): Uint8Array<ArrayBuffer> {
    const r = this.#regions.get(slot);
    if (!r) throw new InputError("slot", "a slot set on this VM", slot);
    if (!r.logDirty) throw new InputError("slot", "a slot set with logDirty: true", slot);
    const pages = r.size / PAGE;
    const bitmap = new Uint8Array(Math.ceil(pages / 64) * 8);
    check("KVM_GET_DIRTY_LOG", kvmShim().hl_vm_get_dirty_log(this.fd, slot, bitmap));
    return bitmap;
  }

  /** Page numbers (within the slot) written since the last dirtyLog/dirtyPages call. */
  dirtyPages(slot: number): number[] {
    const bm = this.dirtyLog(slot);
    const out: number[] = [];
    bm.forEach((b, i) => {
      for (let bit = 0; b && bit < 8; bit++) if (b & (1 << bit)) out.push(i * 8 + bit);
    });
    return out;
  }

  /**
   * KVM_IOEVENTFD: guest writes of `len` bytes to `port` (or MMIO `address`) signal an eventfd in the kernel
   * without an exit to userspace. With `datamatch`, only writes of that value do.
   */
  ioeventfd(opts: { port?: number; address?: number; len: 1 | 2 | 4 | 8; datamatch?: number }): IoEventFd {
    const pio = opts.port !== undefined;
    if (pio === (opts.address !== undefined)) throw new InputError("port|address", "exactly one of port, address");
    const addr = pio ? opts.port! : opts.address!;
    if (pio && (!Number.isInteger(addr) || addr < 0 || addr > 0xffff)) throw new InputError("port", "0..0xffff", addr);
    if (![1, 2, 4, 8].includes(opts.len)) throw new InputError("len", "1, 2, 4 or 8", opts.len);
    const k = kvmShim();
    const efd = check("eventfd", k.hl_eventfd(0));
    const match = opts.datamatch === undefined ? 0 : 1;
    const dm = BigInt(opts.datamatch ?? 0);
    const addr64 = BigInt(addr);
    const r = k.hl_vm_ioeventfd(this.fd, addr64, opts.len, efd, pio ? 1 : 0, 0, match, dm);
    if (r < 0) {
      k.hl_close(efd);
      check("KVM_IOEVENTFD", r);
    }
    const vmFd = this.fd;
    const ev: IoEventFd = new IoEventFd(efd, () => {
      this.release(ev);
      if (!this.closed) k.hl_vm_ioeventfd(vmFd, addr64, opts.len, efd, pio ? 1 : 0, 1, match, dm);
    });
    return this.adopt(ev);
  }

  /** KVM_CREATE_VCPU, maps its kvm_run and gives it the host's supported CPUID (needed for long mode). */
  createVcpu(id = 0, opts: { setCpuid?: boolean } = {}): Vcpu {
    if (!Number.isInteger(id) || id < 0 || id > 1023) throw new InputError("id", "a vCPU id 0..1023", id);
    const fd = check("KVM_CREATE_VCPU", kvmShim().hl_vm_create_vcpu(this.fd, id));
    const vcpu: Vcpu = new Vcpu(fd, id, this.#kvm.vcpuMmapSize(), () => this.release(vcpu));
    this.adopt(vcpu);
    if (opts.setCpuid !== false) vcpu.setCpuid(this.#kvm.supportedCpuid());
    return vcpu;
  }

  protected override beforeClose(): void {
    this.#regions.clear();
    this.#onClose();
  }
}

/** A vCPU fd: its kvm_run mapping, registers, FPU, MSRs, CPUID, KVM_RUN (nonblocking or sync) and whole-state blobs. */
import { HyperlabError, InputError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { EBADF, OwnedFd } from "./fd.ts";
import { kvmShim, toPointer } from "./ffi.ts";
import { decodeExit, EXIT, EXIT_WORDS, type VcpuExit } from "./exits.ts";
import {
  decodeFpu,
  decodeRegs,
  decodeSregs,
  encodeFpu,
  encodeRegs,
  encodeSregs,
  type Fpu,
  FPU_SIZE,
  type Regs,
  REGS_SIZE,
  type Sregs,
  SREGS_SIZE,
} from "./structs.ts";
import type { CpuidEntries } from "./system.ts";

const EINTR = 4;
let kickInstalled = false;

function installKick(): void {
  if (kickInstalled) return;
  check("sigaction", kvmShim().hl_kick_install());
  kickInstalled = true;
}

/**
 * Arms the watchdog of sync runs on the calling thread: after `ms`, a runSync() in progress (or the next one)
 * returns an `interrupted` exit, so a guest spinning without exits cannot hang the event loop. 0 disarms.
 */
export function setSyncWatchdog(ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > 0xffffffff) throw new InputError("ms", "an integer 0..2^32-1", ms);
  installKick();
  check("timer_settime", kvmShim().hl_sync_watchdog(ms));
}

/** An opaque copy of a vCPU's whole state (ffi/kvm.c struct hl_vcpu_state), for cloning. */
export interface VcpuState {
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/** Byte offset of kvm_regs inside a VcpuState blob (pinned in ffi/kvm.c). */
const STATE_REGS_OFFSET = 16;

/** Reads the general registers stored in a VcpuState. */
export function stateRegs(s: VcpuState): Regs {
  return decodeRegs(s.bytes.subarray(STATE_REGS_OFFSET, STATE_REGS_OFFSET + REGS_SIZE));
}

/** Returns a copy of `s` with some general registers replaced (e.g. the value fork returns in a child). */
export function withRegs(s: VcpuState, patch: Partial<Regs>): VcpuState {
  const bytes = s.bytes.slice();
  const view = bytes.subarray(STATE_REGS_OFFSET, STATE_REGS_OFFSET + REGS_SIZE);
  encodeRegs({ ...decodeRegs(view), ...patch }, view);
  return { bytes };
}

/** A virtual CPU. Use Vm.createVcpu(); it closes with its VM. */
export class Vcpu extends OwnedFd {
  /** vCPU id. */
  readonly id: number;
  readonly #run: Deno.PointerObject;
  readonly #mmapSize: number;
  readonly #words = new Uint32Array(EXIT_WORDS);
  readonly #wordBytes = new Uint8Array(this.#words.buffer);
  readonly #onClose: () => void;
  #running = false;
  #unmapped = false;
  #lastExit: VcpuExit | undefined;

  /** Use Vm.createVcpu(). Maps kvm_run; closes `fd` if that fails. */
  constructor(fd: number, id: number, mmapSize: number, onClose: () => void = () => {}) {
    super(fd);
    this.id = id;
    this.#mmapSize = mmapSize;
    this.#onClose = onClose;
    try {
      this.#run = toPointer(kvmShim().hl_vcpu_mmap_run(fd, BigInt(mmapSize)), (e) => {
        throw new ErrnoError("mmap kvm_run", e);
      });
    } catch (e) {
      kvmShim().hl_close(fd);
      throw e;
    }
  }

  /** The last exit KVM_RUN reported. */
  get lastExit(): VcpuExit | undefined {
    return this.#lastExit;
  }

  /** KVM_GET_REGS. */
  getRegs(): Regs {
    const b = new Uint8Array(REGS_SIZE);
    check("KVM_GET_REGS", kvmShim().hl_vcpu_get_regs(this.fd, b));
    return decodeRegs(b);
  }

  /** KVM_SET_REGS (missing fields keep their current value). */
  setRegs(r: Partial<Regs>): void {
    const full = Object.keys(r).length === 18 ? r as Regs : { ...this.getRegs(), ...r };
    check("KVM_SET_REGS", kvmShim().hl_vcpu_set_regs(this.fd, encodeRegs(full)));
  }

  /** KVM_GET_SREGS. */
  getSregs(): Sregs {
    const b = new Uint8Array(SREGS_SIZE);
    check("KVM_GET_SREGS", kvmShim().hl_vcpu_get_sregs(this.fd, b));
    return decodeSregs(b);
  }

  /** KVM_SET_SREGS. */
  setSregs(s: Sregs): void {
    check("KVM_SET_SREGS", kvmShim().hl_vcpu_set_sregs(this.fd, encodeSregs(s)));
  }

  /** KVM_GET_FPU. */
  getFpu(): Fpu {
    const b = new Uint8Array(FPU_SIZE);
    check("KVM_GET_FPU", kvmShim().hl_vcpu_get_fpu(this.fd, b));
    return decodeFpu(b);
  }

  /** KVM_SET_FPU. */
  setFpu(f: Fpu): void {
    check("KVM_SET_FPU", kvmShim().hl_vcpu_set_fpu(this.fd, encodeFpu(f)));
  }

  /** KVM_SET_CPUID2 from raw entries (e.g. Kvm.supportedCpuid()). */
  setCpuid(c: CpuidEntries): void {
    check("KVM_SET_CPUID2", kvmShim().hl_vcpu_set_cpuid(this.fd, c.bytes, c.count));
  }

  /** KVM_GET_MSRS for up to 32 indices; an MSR KVM does not support is an ErrnoError naming it. */
  getMsrs(indices: number[]): Map<number, bigint> {
    this.#checkMsrCount(indices.length);
    const idx = new Uint32Array(indices);
    const vals = new BigUint64Array(indices.length);
    const n = check(
      "KVM_GET_MSRS",
      kvmShim().hl_vcpu_get_msrs(this.fd, new Uint8Array(idx.buffer), new Uint8Array(vals.buffer), indices.length),
    );
    if (n < indices.length) {
      throw new ErrnoError(`KVM_GET_MSRS 0x${indices[n].toString(16)}`, 22, "MSR not supported by KVM");
    }
    return new Map(indices.map((m, i) => [m, vals[i]]));
  }

  /** KVM_SET_MSRS; an MSR KVM refuses is an ErrnoError naming it. */
  setMsrs(values: Map<number, bigint>): void {
    this.#checkMsrCount(values.size);
    const idx = new Uint32Array([...values.keys()]);
    const vals = new BigUint64Array([...values.values()]);
    const n = check(
      "KVM_SET_MSRS",
      kvmShim().hl_vcpu_set_msrs(this.fd, new Uint8Array(idx.buffer), new Uint8Array(vals.buffer), values.size),
    );
    if (n < values.size) throw new ErrnoError(`KVM_SET_MSRS 0x${idx[n].toString(16)}`, 22, "MSR value refused");
  }

  #checkMsrCount(n: number): void {
    if (n < 1 || n > 32) throw new InputError("msrs", "1..32 MSR indices per call", n);
  }

  /**
   * KVM_RUN on the FFI thread pool: the event loop keeps going while the guest runs; kick() interrupts it
   * (the exit is then `interrupted`). Costs ~20–80 µs more per exit than runSync().
   */
  async run(): Promise<VcpuExit> {
    this.#beginRun();
    installKick();
    try {
      return this.#finish(await kvmShim().hl_vcpu_run(this.fd, this.#run, this.#wordBytes));
    } finally {
      this.#endRun();
    }
  }

  /** KVM_RUN on this thread: fastest, but blocks the event loop until the guest exits. */
  runSync(): VcpuExit {
    this.#beginRun();
    try {
      return this.#finish(kvmShim().hl_vcpu_run_sync(this.fd, this.#run, this.#wordBytes));
    } finally {
      this.#endRun();
    }
  }

  /**
   * The C reference loop for the exits benchmark: runs until `max` OUT exits to `port` were counted or another
   * exit happens (returned as `exit`).
   */
  countOutExitsInC(port: number, max: number): { count: number; exit: VcpuExit } {
    this.#beginRun();
    try {
      const n = Number(kvmShim().hl_vcpu_count_out_exits(this.fd, this.#run, port, BigInt(max), this.#wordBytes));
      if (n < 0) this.#finish(n);
      const exit = this.#lastExit = decodeExit(this.#words);
      return { count: n, exit };
    } finally {
      this.#endRun();
    }
  }

  #beginRun(): void {
    this.ensureOpen("KVM_RUN");
    if (this.#running) throw new HyperlabError("busy", `vCPU ${this.id} is already running`);
    this.#running = true;
  }

  #endRun(): void {
    this.#running = false;
    this.#words[14] = this.#words[15] = 0; // no stale thread id for kick()
    if (this.closed) this.#unmap();
  }

  #finish(r: number): VcpuExit {
    if (r === -EINTR) {
      kvmShim().hl_vcpu_set_immediate_exit(this.#run, 0);
      return this.#lastExit = { kind: "interrupted" };
    }
    check("KVM_RUN", r);
    return this.#lastExit = decodeExit(this.#words);
  }

  /** Supplies the value of a pending port IN or MMIO read (lands in the guest on the next run). */
  completeRead(value: number | bigint): void {
    this.ensureOpen("complete read");
    check("complete read", kvmShim().hl_vcpu_complete_read(this.#run, BigInt.asUintN(64, BigInt(value))));
  }

  /**
   * Finishes a pending I/O exit without running guest code (KVM_RUN with immediate_exit), so the saved state is
   * consistent; required before saveState() when the last exit was io or mmio.
   */
  completePending(): void {
    const k = kvmShim();
    if (this.#lastExit?.kind !== "io" && this.#lastExit?.kind !== "mmio") return;
    this.ensureOpen("KVM_RUN");
    k.hl_vcpu_set_immediate_exit(this.#run, 1);
    const r = k.hl_vcpu_run_sync(this.fd, this.#run, this.#wordBytes);
    k.hl_vcpu_set_immediate_exit(this.#run, 0);
    if (r !== -EINTR) check("KVM_RUN (complete pending io)", r < 0 ? r : -5);
    this.#lastExit = { kind: "interrupted" };
  }

  /** Interrupts a run() in progress (or the next one): it returns an `interrupted` exit. */
  kick(): void {
    if (this.closed || this.#unmapped) return;
    const tid = new BigUint64Array(this.#words.buffer, 56, 1)[0];
    check("kick", kvmShim().hl_vcpu_kick(this.#run, this.#running ? tid : 0n));
  }

  /** Saves the whole vCPU state (regs, sregs, FPU/XSAVE, XCRs, events, MP state, debug regs, MSRs). */
  saveState(): VcpuState {
    const k = kvmShim();
    const bytes = new Uint8Array(k.hl_vcpu_state_size());
    check("save vCPU state", k.hl_vcpu_save_state(this.fd, bytes, BigInt(bytes.length)));
    return { bytes };
  }

  /** Restores a state saved by saveState() (on this or another vCPU). */
  restoreState(s: VcpuState): void {
    check("restore vCPU state", kvmShim().hl_vcpu_restore_state(this.fd, s.bytes, BigInt(s.bytes.length)));
  }

  #unmap(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    kvmShim().hl_munmap(this.#run, BigInt(this.#mmapSize));
  }

  protected override beforeClose(): void {
    // A run() in flight still has kvm_run mapped in the shim: kick it, unmap when it returns.
    if (this.#running) this.kick();
    else this.#unmap();
    this.#onClose();
  }
}

export { EBADF, EXIT };

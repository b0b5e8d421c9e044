/**
 * A micro-VM: one VM, one vCPU, memfd-backed RAM, a flat guest image, COM1 console capture, and hyperlab's
 * port-I/O interface for reports, parameters and clone requests (ports.ts).
 * @module
 */
import { HyperlabError, InputError, TimeoutError } from "../../core/errors.ts";
import { describeExit, type VcpuExit } from "../exits.ts";
import { GuestMemory } from "../memory.ts";
import { sharedKvm } from "../system.ts";
import { setSyncWatchdog, type Vcpu } from "../vcpu.ts";
import type { Vm } from "../vm.ts";
import { guestImage, type GuestName, GUESTS } from "./guests.ts";
import { IDENTITY_MAP_ADDR, LOAD_ADDR, MAX_IMAGE, MAX_MEMORY, MIN_MEMORY, TSS_ADDR } from "./layout.ts";
import { type CpuMode, enterMode } from "./modes.ts";
import { FORK_REFUSED, LSR_IDLE, PORT } from "./ports.ts";

const MiB = 1024 * 1024;

/** What a guest's fork request (IN from PORT.FORK) does. */
export type ForkPolicy =
  /** run() stops with reason "fork"; call clone(n) (or run() again: fork then returns 0 with no children). */
  | "pause"
  /** Answer 0 at once: the guest goes on as a parent without children (a booted instance). */
  | "parent"
  /** Answer 0xffffffff (refused), like Nephele without max_clones. */
  | "refuse";

/** Options of MicroVm.boot. */
export interface MicroVmOptions {
  /** A shipped guest, or your own flat image with its entry mode. */
  guest: GuestName | { image: Uint8Array; mode: CpuMode };
  /** Guest RAM in MiB (2..3072). Default 4. */
  memoryMiB?: number;
  /** Values guests read with hl_param(n). */
  params?: number[];
  /** Fork request handling. Default "pause". */
  fork?: ForkPolicy;
  /** Track pages the guest writes (Vm.dirtyPages(0)). */
  logDirty?: boolean;
  /** Name for logs; children are `<name>-child-<index>`. */
  name?: string;
}

/** One report a guest made (OUT to PORT.REPORT). */
export interface Report {
  value: number;
  /** performance.now() when it arrived. */
  at: number;
}

/** Why run() returned. */
export type StopReason = "halt" | "fork" | "report" | "shutdown" | "max-exits" | "interrupted";

/** Options of run(). */
export interface RunOptions {
  /** Also stop after each report. */
  stopOnReport?: boolean;
  /** Stop after this many exits. */
  maxExits?: number;
  /** KVM_RUN on the event-loop thread (fastest; blocks the event loop; a watchdog timer enforces timeoutMs). */
  sync?: boolean;
  /** Fail with TimeoutError (the vCPU is kicked) after this many ms. Default 10000. */
  timeoutMs?: number;
}

/** State of the micro-VM's devices that a clone inherits (COM1 is stateless; the port interface has ARG). */
export interface DeviceState {
  /** Argument register of the port interface (last OUT to PORT.ARG). */
  arg: number;
}

/** Internal parts a micro-VM is made of (used by cloning). */
export interface MicroVmParts {
  vm: Vm;
  vcpu: Vcpu;
  memory: GuestMemory;
  name: string;
  params: number[];
  fork: ForkPolicy;
  index: number;
  devices?: DeviceState;
}

/** A running micro-VM. `using m = MicroVm.boot({ guest: "hello64" })`; close() frees everything, idempotently. */
export class MicroVm implements Disposable {
  readonly vm: Vm;
  readonly vcpu: Vcpu;
  readonly memory: GuestMemory;
  /** Name in logs. */
  readonly name: string;
  /** Guest parameters (hl_param). */
  params: number[];
  /** Fork request handling. */
  fork: ForkPolicy;
  /** Clone index the guest reads (0 when booted). */
  readonly index: number;
  /** Reports in arrival order. */
  readonly reports: Report[] = [];
  /** Called for each report. */
  onReport?: (r: Report, vm: MicroVm) => void;
  /** Port writes counted on PORT.TICK. */
  ticks = 0;
  /** Exits handled so far. */
  exits = 0;
  /** Set while stopped at a fork request (the guest's IN is still pending). */
  forkPending = false;
  /** Set when the guest ran since its memory was last snapshotted (cloning reuses an unchanged snapshot). */
  ranSinceSnapshot = true;
  /** Children cloned so far (the next child's index is clonesMade + 1). */
  clonesMade = 0;
  #console: number[] = [];
  #arg = 0;
  #closed = false;
  #interruptRequested = false;

  /** Assembles a micro-VM from parts (boot() and cloning use this). */
  constructor(p: MicroVmParts) {
    this.vm = p.vm;
    this.vcpu = p.vcpu;
    this.memory = p.memory;
    this.name = p.name;
    this.params = p.params;
    this.fork = p.fork;
    this.index = p.index;
    this.#arg = p.devices?.arg ?? 0;
  }

  /** Device state a clone inherits. */
  get devices(): DeviceState {
    return { arg: this.#arg };
  }

  /** Creates the VM, loads the guest at 0x10000 and sets up its entry mode. */
  static boot(opts: MicroVmOptions): MicroVm {
    const memoryMiB = opts.memoryMiB ?? 4;
    if (!Number.isInteger(memoryMiB) || memoryMiB * MiB < MIN_MEMORY || memoryMiB * MiB > MAX_MEMORY) {
      throw new InputError("memoryMiB", `an integer ${MIN_MEMORY / MiB}..${MAX_MEMORY / MiB}`, opts.memoryMiB);
    }
    const params = opts.params ?? [];
    params.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 0 || p > 0xffffffff) throw new InputError(`params[${i}]`, "a u32 integer", p);
    });
    if (opts.fork && !["pause", "parent", "refuse"].includes(opts.fork)) {
      throw new InputError("fork", "pause, parent or refuse", opts.fork);
    }
    const { image, mode } = typeof opts.guest === "string"
      ? { image: guestImage(opts.guest), mode: GUESTS[opts.guest] }
      : opts.guest;
    if (!(image instanceof Uint8Array) || image.length === 0 || image.length > MAX_IMAGE) {
      throw new InputError("guest.image", `a flat binary of 1..${MAX_IMAGE} bytes`, image?.length);
    }
    if (!["real", "protected", "long"].includes(mode)) {
      throw new InputError("guest.mode", "real, protected or long", mode);
    }

    const vm = sharedKvm().createVm();
    let memory: GuestMemory | undefined;
    try {
      vm.setTssAddr(TSS_ADDR);
      vm.setIdentityMapAddr(IDENTITY_MAP_ADDR);
      memory = GuestMemory.create(memoryMiB * MiB);
      vm.setMemoryRegion({ slot: 0, guestAddr: 0, size: memory.size, host: memory.pointer, logDirty: opts.logDirty });
      memory.write(LOAD_ADDR, image);
      const vcpu = vm.createVcpu(0);
      enterMode(vcpu, memory, mode);
      const name = opts.name ?? (typeof opts.guest === "string" ? opts.guest : "guest");
      return new MicroVm({ vm, vcpu, memory, name, params: [...params], fork: opts.fork ?? "pause", index: 0 });
    } catch (e) {
      vm.close();
      memory?.close();
      throw e;
    }
  }

  /** Console output (COM1) so far. */
  get console(): string {
    return new TextDecoder().decode(new Uint8Array(this.#console));
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs the guest until it halts, asks to fork (policy "pause"), reports (with stopOnReport), or a limit hits. */
  async run(opts: RunOptions = {}): Promise<{ reason: StopReason; exits: number }> {
    if (this.#closed) throw new HyperlabError("closed", `micro-VM ${this.name} is closed`);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const maxExits = opts.maxExits ?? Infinity;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 0x7fffffff) {
      throw new InputError("timeoutMs", "an integer number of milliseconds >= 1", opts.timeoutMs);
    }
    if (maxExits !== Infinity && (!Number.isInteger(maxExits) || maxExits < 1)) {
      throw new InputError("maxExits", "an integer >= 1", opts.maxExits);
    }
    if (this.forkPending) this.#answerFork(0);
    this.ranSinceSnapshot = true;
    const start = performance.now();
    let timedOut = false;
    const timer = opts.sync ? undefined : setTimeout(() => {
      timedOut = true;
      this.vcpu.kick();
    }, timeoutMs);
    if (opts.sync) setSyncWatchdog(timeoutMs);
    try {
      for (let n = 0; n < maxExits; n++) {
        const exit = opts.sync ? this.vcpu.runSync() : await this.vcpu.run();
        this.exits++;
        if (opts.sync && performance.now() - start >= timeoutMs) timedOut = true;
        if (timedOut) {
          throw new TimeoutError(`micro-VM ${this.name}`, timeoutMs, `console: ${this.console.slice(-200)}`);
        }
        if (exit.kind === "interrupted" && !this.#interruptRequested) continue; // a stray signal: run on
        this.#interruptRequested = false;
        const stop = this.#handle(exit, opts);
        if (stop) return { reason: stop, exits: n + 1 };
      }
      return { reason: "max-exits", exits: maxExits };
    } finally {
      clearTimeout(timer);
      if (opts.sync) setSyncWatchdog(0);
    }
  }

  /** Makes a run() in progress (or the next one) return with reason "interrupted". */
  interrupt(): void {
    this.#interruptRequested = true;
    this.vcpu.kick();
  }

  #answerFork(value: number): void {
    this.vcpu.completeRead(value);
    this.forkPending = false;
  }

  /** Handles one exit; returns a stop reason or undefined to keep running. */
  #handle(exit: VcpuExit, opts: RunOptions): StopReason | undefined {
    switch (exit.kind) {
      case "hlt":
        return "halt";
      case "shutdown":
        return "shutdown";
      case "interrupted":
        return "interrupted";
      case "io":
        return this.#io(exit.direction, exit.port, exit.data, opts);
      default:
        throw this.#fault(describeExit(exit));
    }
  }

  #io(dir: "in" | "out", port: number, data: number, opts: RunOptions): StopReason | undefined {
    const v = this.vcpu;
    if (dir === "out") {
      switch (port) {
        case PORT.SERIAL:
          this.#console.push(data & 0xff);
          return;
        case PORT.TICK:
          this.ticks++;
          return;
        case PORT.REPORT: {
          const r = { value: data >>> 0, at: performance.now() };
          this.reports.push(r);
          this.onReport?.(r, this);
          return opts.stopOnReport ? "report" : undefined;
        }
        case PORT.ARG:
          this.#arg = data >>> 0;
          return;
      }
    } else {
      switch (port) {
        case PORT.SERIAL_LSR:
          v.completeRead(LSR_IDLE);
          return;
        case PORT.PARAM:
          v.completeRead(this.params[this.#arg] ?? 0);
          return;
        case PORT.INDEX:
          v.completeRead(this.index);
          return;
        case PORT.MEMSIZE:
          v.completeRead(this.memory.size / 1024);
          return;
        case PORT.FORK:
          if (this.fork === "parent") return void this.#answerFork(0);
          if (this.fork === "refuse") return void this.#answerFork(FORK_REFUSED);
          this.forkPending = true;
          return "fork";
      }
    }
    throw this.#fault(`unhandled port ${dir} 0x${port.toString(16)}`);
  }

  #fault(what: string): HyperlabError {
    let rip = "?";
    try {
      rip = "0x" + this.vcpu.getRegs().rip.toString(16);
    } catch { /* closed */ }
    return new HyperlabError("guest", `micro-VM ${this.name}: ${what} at rip ${rip}`, {
      hint: this.#console.length ? `console: ${this.console.slice(-200)}` : undefined,
    });
  }

  /** Closes vCPU, VM and memory. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.vm.close();
    this.memory.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Cloning a micro-VM on KVM (Nephele's fork, done with KVM and memfds): the parent's memory is frozen into a
 * snapshot that the parent and every child map copy-on-write; the vCPU state is copied; each child is told its
 * index and, when it asked to fork, sees fork() return 1 while the parent sees 0.
 * @module
 */
import { InputError } from "../../core/errors.ts";
import { GuestMemory, type MemorySnapshot } from "../memory.ts";
import { sharedKvm } from "../system.ts";
import { type VcpuState, withRegs } from "../vcpu.ts";
import { IDENTITY_MAP_ADDR, TSS_ADDR } from "./layout.ts";
import { type DeviceState, MicroVm } from "./microvm.ts";

/** What cloning copies and what it defines, for inspection and tests. */
export interface CloneSource {
  /** The parent's vCPU state at the clone point (fork's return value 0 in RAX when it asked). */
  state: VcpuState;
  /** The memory snapshot every clone maps copy-on-write. */
  snapshot: MemorySnapshot;
  /** Whether the parent was stopped at a fork request. */
  atFork: boolean;
  /** The parent's device state at the clone point. */
  devices: DeviceState;
}

const sources = new WeakMap<MicroVm, CloneSource>();

/**
 * Freezes `parent` at its current point: answers a pending fork request with 0, completes pending I/O, saves the
 * vCPU state and snapshots memory (reusing the last snapshot when the guest has not run since).
 */
export function cloneSource(parent: MicroVm): CloneSource {
  const have = sources.get(parent);
  if (have && !parent.ranSinceSnapshot && !have.snapshot.closed) return have;
  const atFork = parent.forkPending;
  if (atFork) {
    parent.vcpu.completeRead(0);
    parent.forkPending = false;
  }
  parent.vcpu.completePending();
  const state = parent.vcpu.saveState();
  const snapshot = parent.memory.snapshot();
  parent.ranSinceSnapshot = false;
  const src = { state, snapshot, atFork, devices: parent.devices };
  sources.set(parent, src);
  return src;
}

/** Creates one child VM of `parent` from `src` with clone index `index`. */
function makeChild(parent: MicroVm, src: CloneSource, index: number): MicroVm {
  const vm = sharedKvm().createVm();
  let memory: GuestMemory | undefined;
  try {
    vm.setTssAddr(TSS_ADDR);
    vm.setIdentityMapAddr(IDENTITY_MAP_ADDR);
    memory = GuestMemory.fromSnapshot(src.snapshot);
    const logDirty = parent.vm.regions()[0]?.logDirty;
    vm.setMemoryRegion({ slot: 0, guestAddr: 0, size: memory.size, host: memory.pointer, logDirty });
    const vcpu = vm.createVcpu(0);
    vcpu.restoreState(src.atFork ? withRegs(src.state, { rax: 1n }) : src.state);
    return new MicroVm({
      vm,
      vcpu,
      memory,
      name: `${parent.name}-child-${index}`,
      params: [...parent.params],
      fork: parent.fork,
      index,
      devices: src.devices,
    });
  } catch (e) {
    vm.close();
    memory?.close();
    throw e;
  }
}

/**
 * Clones `parent` into `n` children (indices clonesMade+1 … clonesMade+n). The parent stays stopped; run() it to
 * let it continue (fork returned 0). Children are independent micro-VMs: run and close each.
 */
export function cloneMicroVm(parent: MicroVm, n = 1): MicroVm[] {
  if (!Number.isInteger(n) || n < 1 || n > 4096) throw new InputError("n", "an integer 1..4096 children", n);
  if (parent.closed) throw new InputError("parent", "an open micro-VM", parent.name);
  const src = cloneSource(parent);
  const children: MicroVm[] = [];
  try {
    for (let i = 0; i < n; i++) children.push(makeChild(parent, src, ++parent.clonesMade));
  } catch (e) {
    children.forEach((c) => c.close());
    throw e;
  }
  return children;
}

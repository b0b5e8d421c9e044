/**
 * KVM through FFI (ffi/kvm.c): the system fd, VMs, vCPUs, guest memory and snapshots, decoded exits, host facts,
 * and the micro-VMM with cloning (./vmm). Objects are Disposable; children close before parents; close is
 * idempotent; every ioctl failure is an ErrnoError carrying the errno name.
 *
 * ```ts
 * using kvm = Kvm.open();
 * using vm = kvm.createVm();
 * using mem = GuestMemory.create(2 << 20);
 * vm.setMemoryRegion({ slot: 0, guestAddr: 0, size: mem.size, host: mem.pointer });
 * const vcpu = vm.createVcpu(0);
 * const exit = await vcpu.run(); // { kind: "io", direction: "out", port: 0x3f8, ... }
 * ```
 * @module
 */
export { decodeExit, describeExit, EXIT, type IoExit, type MmioExit, type VcpuExit } from "./exits.ts";
export { KVM_CAPS, type KvmFacts, kvmFacts } from "./facts.ts";
export { EBADF } from "./fd.ts";
export { GuestMemory, MemorySnapshot } from "./memory.ts";
export type { DescriptorTable, Fpu, Regs, Segment, Sregs } from "./structs.ts";
export { type CpuidEntries, type CpuidEntry, decodeCpuid, Kvm, sharedKvm } from "./system.ts";
export { setSyncWatchdog, stateRegs, Vcpu, type VcpuState, withRegs } from "./vcpu.ts";
export { IoEventFd, type MemoryRegion, Vm } from "./vm.ts";
export * from "./vmm/mod.ts";

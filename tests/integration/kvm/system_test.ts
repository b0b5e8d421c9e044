import assert from "node:assert/strict";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { InputError } from "../../../lib/core/errors.ts";
import { decodeCpuid, GuestMemory, Kvm, KVM_CAPS, kvmFacts } from "../../../lib/kvm/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { NO_KVM, openFds } from "./_kvm.ts";

const ignore = skipIf(NO_KVM);

function ebadf(e: unknown): boolean {
  assert.ok(e instanceof ErrnoError, `expected ErrnoError, got ${e}`);
  assert.equal(e.errnoName, "EBADF");
  return true;
}

Deno.test({ name: "system fd: API version 12, extensions, vCPU mmap size, supported CPUID", ignore }, () => {
  using kvm = Kvm.open();
  assert.equal(kvm.apiVersion(), 12);
  assert.ok(kvm.checkExtension(KVM_CAPS.USER_MEMORY) > 0);
  assert.ok(kvm.vcpuMmapSize() >= 4096);
  const cpuid = decodeCpuid(kvm.supportedCpuid());
  assert.ok(cpuid.length > 5);
  const ext = cpuid.find((e) => e.function === 0x80000001);
  assert.ok(ext && (ext.edx & (1 << 29)), "host CPUID offers long mode");
  assert.equal(kvmFacts().apiVersion, 12, "the lead's facts query still works");
});

Deno.test({ name: "operations on closed or bad fds fail with EBADF (as rust-vmm kvm-ioctls tests)", ignore }, () => {
  assert.throws(() => Kvm.fromRawFd(-1).apiVersion(), ebadf);
  assert.throws(() => Kvm.fromRawFd(-1).createVm(), ebadf);
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.close();
  assert.throws(() => vcpu.getRegs(), ebadf);
  assert.throws(() => vcpu.runSync(), ebadf);
  assert.throws(() => vcpu.completeRead(1), ebadf);
  vm.close();
  assert.throws(() => vm.createVcpu(1), ebadf);
  assert.throws(() => vm.createIrqchip(), ebadf);
  kvm.close();
  assert.throws(() => kvm.apiVersion(), ebadf);
  assert.throws(() => kvm.createVm(), ebadf);
  // close is idempotent
  kvm.close();
  vm.close();
  vcpu.close();
});

Deno.test({ name: "children close before parents and nothing leaks", ignore }, () => {
  const before = openFds();
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  const v0 = vm.createVcpu(0);
  const v1 = vm.createVcpu(1);
  const ev = vm.ioeventfd({ port: 0x600, len: 4 });
  assert.equal(openFds(), before + 5);
  kvm.close();
  assert.ok(vm.closed && v0.closed && v1.closed && ev.closed);
  assert.equal(openFds(), before);
});

Deno.test({ name: "VM: irqchip, TSS, memory slots and their input checks", ignore }, () => {
  using kvm = Kvm.open();
  using vm = kvm.createVm();
  using mem = GuestMemory.create(1 << 21);
  vm.setTssAddr(0xfffbd000);
  vm.createIrqchip();
  assert.throws(() => vm.createIrqchip(), (e) => e instanceof ErrnoError && e.errnoName === "EEXIST");
  vm.setMemoryRegion({ slot: 0, guestAddr: 0, size: mem.size, host: mem.pointer });
  assert.equal(vm.regions().length, 1);
  const bad = (f: () => void, field: string) => assert.throws(f, (e) => e instanceof InputError && e.field === field);
  bad(() => vm.setMemoryRegion({ slot: -1, guestAddr: 0, size: 4096, host: mem.pointer }), "slot");
  bad(() => vm.setMemoryRegion({ slot: 1, guestAddr: 123, size: 4096, host: mem.pointer }), "guestAddr");
  bad(() => vm.setMemoryRegion({ slot: 1, guestAddr: 0x400000, size: 100, host: mem.pointer }), "size");
  bad(() => vm.dirtyLog(0), "slot");
  bad(() => vm.removeMemoryRegion(7), "slot");
  bad(() => vm.ioeventfd({ port: 0x10000, len: 4 }), "port");
  bad(() => vm.ioeventfd({ port: 1, len: 3 as 4 }), "len");
  bad(() => vm.createVcpu(-1), "id");
  // overlapping slot: the kernel refuses with EEXIST
  assert.throws(
    () => vm.setMemoryRegion({ slot: 1, guestAddr: 0, size: 4096, host: mem.pointer }),
    (e) => e instanceof ErrnoError && e.errnoName === "EEXIST",
  );
  vm.removeMemoryRegion(0);
  assert.equal(vm.regions().length, 0);
});

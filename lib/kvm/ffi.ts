/** Symbol table of ffi/kvm.c and the lazily opened library handle (one per process). */
import { loadShim } from "../ffi/loader.ts";

const RUN = { parameters: ["i32", "pointer", "buffer"], result: "i32" } as const;

/** Every symbol of the KVM shim. */
export const KVM_SYMBOLS = {
  hl_close: { parameters: ["i32"], result: "i32" },
  hl_kvm_open: { parameters: ["buffer"], result: "i32" },
  hl_kvm_api_version: { parameters: ["i32"], result: "i32" },
  hl_kvm_check_extension: { parameters: ["i32", "i32"], result: "i32" },
  hl_kvm_vcpu_mmap_size: { parameters: ["i32"], result: "i32" },
  hl_kvm_create_vm: { parameters: ["i32"], result: "i32" },
  hl_raise_nofile: { parameters: [], result: "i64" },
  hl_kvm_supported_cpuid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  hl_vm_create_vcpu: { parameters: ["i32", "i32"], result: "i32" },
  hl_vm_set_tss_addr: { parameters: ["i32", "u64"], result: "i32" },
  hl_vm_set_identity_map_addr: { parameters: ["i32", "u64"], result: "i32" },
  hl_vm_create_irqchip: { parameters: ["i32"], result: "i32" },
  hl_vm_set_memory: { parameters: ["i32", "u32", "u32", "u64", "u64", "pointer"], result: "i32" },
  hl_vm_get_dirty_log: { parameters: ["i32", "u32", "buffer"], result: "i32" },
  hl_vm_ioeventfd: { parameters: ["i32", "u64", "u32", "i32", "i32", "i32", "i32", "u64"], result: "i32" },
  hl_eventfd: { parameters: ["u32"], result: "i32" },
  hl_eventfd_read: { parameters: ["i32", "buffer"], result: "i32" },
  hl_memfd: { parameters: ["buffer", "u64"], result: "i32" },
  hl_mmap: { parameters: ["i32", "u64", "i32", "u64"], result: "i64" },
  hl_mmap_at: { parameters: ["i32", "u64", "i32", "u64", "u64"], result: "i64" },
  hl_anon_pages: { parameters: ["pointer", "u64", "buffer"], result: "i64" },
  hl_write_pages: { parameters: ["i32", "pointer", "buffer", "u64"], result: "i32" },
  hl_munmap: { parameters: ["pointer", "u64"], result: "i32" },
  hl_write_all: { parameters: ["i32", "pointer", "u64"], result: "i32" },
  hl_vcpu_mmap_run: { parameters: ["i32", "u64"], result: "i64" },
  hl_vcpu_get_regs: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_set_regs: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_get_sregs: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_set_sregs: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_get_fpu: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_set_fpu: { parameters: ["i32", "buffer"], result: "i32" },
  hl_vcpu_set_cpuid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  hl_vcpu_get_msrs: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  hl_vcpu_set_msrs: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  hl_vcpu_state_size: { parameters: [], result: "i32" },
  hl_vcpu_save_state: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  hl_vcpu_restore_state: { parameters: ["i32", "buffer", "u64"], result: "i32" },
  /** KVM_RUN on the FFI thread pool (does not block the event loop; ~20–80 µs per call). */
  hl_vcpu_run: { ...RUN, nonblocking: true },
  /** KVM_RUN on the calling thread (blocks the event loop until the next exit; ~11 ns FFI overhead). */
  hl_vcpu_run_sync: { ...RUN, name: "hl_vcpu_run" },
  hl_vcpu_complete_read: { parameters: ["pointer", "u64"], result: "i32" },
  hl_vcpu_set_immediate_exit: { parameters: ["pointer", "i32"], result: "i32" },
  hl_kick_install: { parameters: [], result: "i32" },
  hl_vcpu_kick: { parameters: ["pointer", "u64"], result: "i32" },
  hl_sync_watchdog: { parameters: ["u32"], result: "i32" },
  hl_vcpu_count_out_exits: { parameters: ["i32", "pointer", "u32", "i64", "buffer"], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The KVM shim's symbols (builds and opens the shim on first use). */
export function kvmShim(): Deno.DynamicLibrary<typeof KVM_SYMBOLS>["symbols"] {
  return loadShim("kvm", KVM_SYMBOLS).symbols;
}

/** Converts an address returned by the shim (positive i64, or -errno) to a pointer; throws via `fail` on error. */
export function toPointer(ret: number | bigint, fail: (errno: number) => never): Deno.PointerObject {
  const n = BigInt(ret);
  if (n < 0n) fail(Number(-n));
  const p = Deno.UnsafePointer.create(n);
  if (p === null) fail(14);
  return p;
}

/** Symbol table of ffi/kvm.c and the lazily opened library handle (one per process). */
import { loadShim } from "../ffi/loader.ts";

/** Every symbol of the KVM shim. */
export const KVM_SYMBOLS = {
  hl_close: { parameters: ["i32"], result: "i32" },
  hl_kvm_open: { parameters: ["buffer"], result: "i32" },
  hl_kvm_api_version: { parameters: ["i32"], result: "i32" },
  hl_kvm_check_extension: { parameters: ["i32", "i32"], result: "i32" },
  hl_kvm_vcpu_mmap_size: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The KVM shim's symbols (builds and opens the shim on first use). */
export function kvmShim(): Deno.DynamicLibrary<typeof KVM_SYMBOLS>["symbols"] {
  return loadShim("kvm", KVM_SYMBOLS).symbols;
}

/** Symbol table of ffi/xenctrl.c (libxenctrl + privcmd) and the lazily opened shim (one per process). */
import { loadShim } from "../ffi/loader.ts";

/** Every symbol of the xenctrl shim. Hypervisor calls can block: they are nonblocking. */
export const XENCTRL_SYMBOLS = {
  hl_xc_open: { parameters: [], result: "i32", nonblocking: true },
  hl_xc_version: { parameters: ["buffer", "buffer"], result: "i32", nonblocking: true },
  hl_xc_physinfo: { parameters: ["buffer"], result: "i32", nonblocking: true },
  hl_xc_domain_list: { parameters: ["u32", "u32", "buffer"], result: "i32", nonblocking: true },
  hl_xc_cpumap_size: { parameters: [], result: "i32", nonblocking: true },
  hl_xc_vcpu_get_affinity: { parameters: ["u32", "i32", "buffer", "buffer"], result: "i32", nonblocking: true },
  hl_xc_vcpu_set_affinity: { parameters: ["u32", "i32", "buffer"], result: "i32", nonblocking: true },
  hl_xc_set_max_mem: { parameters: ["u32", "u64"], result: "i32", nonblocking: true },
  hl_xc_pause: { parameters: ["u32"], result: "i32", nonblocking: true },
  hl_xc_unpause: { parameters: ["u32"], result: "i32", nonblocking: true },
  hl_xc_hypercall: { parameters: ["u64", "buffer", "buffer"], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** The xenctrl shim's symbols (builds and opens it on first use). */
export function xenctrlShim(): Deno.DynamicLibrary<typeof XENCTRL_SYMBOLS>["symbols"] {
  return loadShim("xenctrl", XENCTRL_SYMBOLS).symbols;
}

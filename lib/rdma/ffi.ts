/** Symbol table of ffi/verbs.c and the lazily opened library handle (one per process). */
import { loadShim } from "../ffi/loader.ts";

/** Every symbol of the verbs shim. Handles are u64 pointers; out-parameters are buffers. */
export const VERBS_SYMBOLS = {
  hl_verbs_device_list: { parameters: ["buffer", "i32"], result: "i32" },
  hl_verbs_open: { parameters: ["buffer", "buffer"], result: "i32" },
  hl_verbs_close_device: { parameters: ["u64"], result: "i32" },
  hl_verbs_query_device: { parameters: ["u64", "buffer"], result: "i32" },
  hl_verbs_query_port: { parameters: ["u64", "u32", "buffer"], result: "i32" },
  hl_verbs_query_gid: { parameters: ["u64", "u32", "i32", "buffer"], result: "i32" },
  hl_verbs_alloc_pd: { parameters: ["u64", "buffer"], result: "i32" },
  hl_verbs_dealloc_pd: { parameters: ["u64"], result: "i32" },
  hl_verbs_reg_mr: { parameters: ["u64", "u64", "u64", "i32", "buffer", "buffer"], result: "i32" },
  hl_verbs_dereg_mr: { parameters: ["u64"], result: "i32" },
  hl_verbs_create_cq: { parameters: ["u64", "i32", "buffer"], result: "i32" },
  hl_verbs_destroy_cq: { parameters: ["u64"], result: "i32" },
  hl_verbs_create_rc_qp: {
    parameters: ["u64", "u64", "u64", "u32", "u32", "u32", "u32", "buffer", "buffer"],
    result: "i32",
  },
  hl_verbs_destroy_qp: { parameters: ["u64"], result: "i32" },
  hl_verbs_qp_init: { parameters: ["u64", "u32", "i32"], result: "i32" },
  hl_verbs_qp_rtr: { parameters: ["u64", "u32", "u32", "u32", "u32", "buffer", "i32", "u32", "u32"], result: "i32" },
  hl_verbs_qp_rts: { parameters: ["u64", "u32"], result: "i32" },
  hl_verbs_post_send: { parameters: ["u64", "u32", "u64", "u64", "u32", "u32", "u64", "u32", "u32"], result: "i32" },
  hl_verbs_post_recv: { parameters: ["u64", "u64", "u64", "u32", "u32"], result: "i32" },
  hl_verbs_poll_cq: { parameters: ["u64", "buffer", "i32"], result: "i32" },
  hl_verbs_wait_cq: { parameters: ["u64", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** The verbs shim's symbols (builds and opens the shim on first use). */
export function verbsShim(): Deno.DynamicLibrary<typeof VERBS_SYMBOLS>["symbols"] {
  return loadShim("verbs", VERBS_SYMBOLS).symbols;
}

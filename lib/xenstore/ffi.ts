/** Symbol table of ffi/xenstore.c (libxenstore) and the lazily opened shim (one per process). */
import { loadShim } from "../ffi/loader.ts";

const h = "i32" as const;
const buf = "buffer" as const;

/** Every symbol of the xenstore shim; all blocking ones are nonblocking so the event loop keeps running. */
export const XENSTORE_SYMBOLS = {
  hl_xs_open: { parameters: [buf], result: "i32", nonblocking: true },
  hl_xs_close: { parameters: [h], result: "i32", nonblocking: true },
  hl_xs_read: { parameters: [h, "u32", buf, buf, "i64"], result: "i64", nonblocking: true },
  hl_xs_write: { parameters: [h, "u32", buf, buf, "u32"], result: "i32", nonblocking: true },
  hl_xs_mkdir: { parameters: [h, "u32", buf], result: "i32", nonblocking: true },
  hl_xs_rm: { parameters: [h, "u32", buf], result: "i32", nonblocking: true },
  hl_xs_directory: { parameters: [h, "u32", buf, buf, "i64"], result: "i64", nonblocking: true },
  hl_xs_get_perms: { parameters: [h, "u32", buf, buf, "i64"], result: "i64", nonblocking: true },
  hl_xs_set_perms: { parameters: [h, "u32", buf, buf, "u32"], result: "i32", nonblocking: true },
  hl_xs_transaction_start: { parameters: [h], result: "i64", nonblocking: true },
  hl_xs_transaction_end: { parameters: [h, "u32", "i32"], result: "i32", nonblocking: true },
  hl_xs_watch: { parameters: [h, buf, buf], result: "i32", nonblocking: true },
  hl_xs_unwatch: { parameters: [h, buf, buf], result: "i32", nonblocking: true },
  hl_xs_read_watch: { parameters: [h, buf, "i64", "i32"], result: "i64", nonblocking: true },
  /** Synchronous read, for measuring the call cost without the thread-pool hop (blocks the event loop). */
  hl_xs_read_sync: { name: "hl_xs_read", parameters: [h, "u32", buf, buf, "i64"], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The xenstore shim's symbols (builds and opens it on first use). */
export function xenstoreShim(): Deno.DynamicLibrary<typeof XENSTORE_SYMBOLS>["symbols"] {
  return loadShim("xenstore", XENSTORE_SYMBOLS).symbols;
}

/**
 * xenstore for hyperlab: clients (libxenstore through FFI, or pure TypeScript over the wire protocol) with
 * "not found" as `undefined` and typed errno errors, a transaction helper that retries on EAGAIN, and the embedded
 * xenstored that speaks Xen's wire protocol for labs and tests without a hypervisor.
 *
 * ```ts
 * await using xsd = await EmbeddedXenstored.start({ socketPath: "/tmp/xs.sock" });
 * await using xs = await openXenstore({ socketPath: "/tmp/xs.sock" });
 * await xs.write("/local/domain/1/numa/topo_change", "1");
 * await withTransaction(xs, async (tx) => xs.write("/a", "1", { tx }));
 * ```
 * @module
 */
import { LibXenstoreClient } from "./libxenstore_client.ts";
import type { XenstoreClient } from "./types.ts";
import { XsWireClient } from "./wire_client.ts";

export type { WatchEvent, XenstoreClient, XsAccess, XsCallOptions, XsPerm } from "./types.ts";
export { LibXenstoreClient, XEN_XENSTORED_SOCKET } from "./libxenstore_client.ts";
export { XsWireClient } from "./wire_client.ts";
export { type TransactionOptions, withTransaction } from "./transaction.ts";
export { formatPerm, parsePerm } from "./perms.ts";
export {
  EMBEDDED_MARK,
  EMBEDDED_MARK_PATH,
  EmbeddedXenstored,
  type XenstoredOptions,
  type XenstoredStats,
} from "./daemon/server.ts";
export { DEFAULT_LIMITS, type XsLimits } from "./daemon/limits.ts";
export * as wire from "./wire.ts";

/** How to reach xenstore. */
export interface OpenXenstoreOptions {
  /** Daemon socket; default: libxenstore's own choice (XENSTORED_PATH, /dev/xen/xenbus, /run/xenstored/socket). */
  socketPath?: string;
  /** `libxenstore` (Xen's C library through our shim, default) or `wire` (pure TypeScript). */
  via?: "libxenstore" | "wire";
}

/** Opens a xenstore client. */
export function openXenstore(opts: OpenXenstoreOptions = {}): Promise<XenstoreClient> {
  if (opts.via === "wire") {
    return XsWireClient.connect(opts.socketPath ?? Deno.env.get("XENSTORED_PATH") ?? "/run/xenstored/socket");
  }
  return LibXenstoreClient.open(opts.socketPath);
}
export {
  compareConformance,
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ConformanceResult,
  runConformance,
} from "./conformance.ts";

/**
 * The one interface every rmem transport implements (TCP everywhere, verbs where an RDMA device exists): connect to
 * a memory server, receive a pool grant, then serve two-sided READ and WRITE requests on it.
 * @module
 */
import type { Grant } from "./wire.ts";

/** How a channel is opened. */
export interface ChannelOptions {
  /** Bytes of pool to ask for at connect. */
  requestBytes: number;
  /** Merge adjacent queued requests of the same kind into one. */
  merge: boolean;
  /** Largest merged request in bytes. */
  maxMergeBytes: number;
  /** Connect timeout in milliseconds. */
  timeoutMs: number;
}

/** Per-channel counters. */
export interface ChannelStats {
  /** Requests the caller issued. */
  requests: number;
  /** Requests that went on the wire (fewer than `requests` when merging). */
  wireRequests: number;
}

/** A connection to one memory server holding one granted pool slice. */
export interface RmemChannel {
  /** `host:port` of the server. */
  readonly endpoint: string;
  /** The pool slice the server granted at connect. */
  readonly grant: Grant;
  /** False once the connection is gone; every later request fails with RemoteMemoryLostError. */
  readonly alive: boolean;
  /** Resolves with the reason once the connection is gone. */
  readonly closed: Promise<Error>;
  /** Reads `len` bytes at remote address `addr` under `rkey`. */
  read(rkey: number, addr: bigint, len: number): Promise<Uint8Array>;
  /**
   * Reads `len` bytes at `addr` and hands them to `sink` as a view valid only during the call (no copy, no
   * allocation); resolves once `sink` returned, rejects with what it threw.
   */
  readInto(rkey: number, addr: bigint, len: number, sink: (view: Uint8Array) => void): Promise<void>;
  /**
   * Callback form of `readInto` for hot paths (no promise per request): exactly one of `sink` (the reply bytes, a
   * view valid only during the call) and `fail` is called, never before this returns; an error `sink` throws
   * goes to `fail`.
   */
  readWith(rkey: number, addr: bigint, len: number, sink: (view: Uint8Array) => void, fail: (e: Error) => void): void;
  /** Callback form of `write`: exactly one of `done` and `fail` is called, never before this returns. */
  writeWith(rkey: number, addr: bigint, data: Uint8Array, done: () => void, fail: (e: Error) => void): void;
  /** Writes `data` at remote address `addr` under `rkey`; `data` is copied before this returns. */
  write(rkey: number, addr: bigint, data: Uint8Array): Promise<void>;
  /** Counters. */
  stats(): ChannelStats;
  /** Closes the connection (the server then releases the grant). */
  close(): Promise<void>;
}

/** A way to reach memory servers. */
export interface RmemTransport {
  /** Short name: `tcp`, `verbs`. */
  readonly name: string;
  /** Connects to `endpoint` and obtains a grant of `options.requestBytes`. */
  connect(endpoint: string, options: ChannelOptions): Promise<RmemChannel>;
}

/**
 * The xenstore client interface shared by the libxenstore-backed client (ffi) and the pure-TypeScript wire client:
 * "not found" is a value (`undefined`), every other failure is an ErrnoError carrying the errno name.
 * Changing calls (write, mkdir, rm, setPerms) go through `effect`, so under `--dry-run` they are planned, not done.
 * @module
 */

/** Access letters: none, read, write, both. */
export type XsAccess = "n" | "r" | "w" | "b";

/** One permission entry; the first of a list names the owner and everyone else's access. */
export interface XsPerm {
  id: number;
  access: XsAccess;
}

/** One watch event: the path that changed (or the watched path, for the initial event) and the watch's token. */
export interface WatchEvent {
  path: string;
  token: string;
}

/** Per-call options. */
export interface XsCallOptions {
  /** Transaction id from `transactionStart` (0 or absent: none). */
  tx?: number;
}

/** A connection to a xenstore daemon. */
export interface XenstoreClient extends AsyncDisposable {
  /** Where it is connected (socket path), for plans and messages. */
  readonly target: string;
  /** Value as text, or undefined when the node does not exist. */
  read(path: string, opts?: XsCallOptions): Promise<string | undefined>;
  /** Value as bytes, or undefined when the node does not exist. */
  readBytes(path: string, opts?: XsCallOptions): Promise<Uint8Array | undefined>;
  /** Writes a value, creating the node and missing parents. */
  write(path: string, value: string | Uint8Array, opts?: XsCallOptions): Promise<void>;
  /** Creates an empty node (no-op when it exists). */
  mkdir(path: string, opts?: XsCallOptions): Promise<void>;
  /** Removes a node and its subtree (no-op when it is already gone and its parent exists). */
  rm(path: string, opts?: XsCallOptions): Promise<void>;
  /** Child names, or undefined when the node does not exist. */
  list(path: string, opts?: XsCallOptions): Promise<string[] | undefined>;
  /** Permissions, or undefined when the node does not exist. */
  getPerms(path: string, opts?: XsCallOptions): Promise<XsPerm[] | undefined>;
  /** Sets permissions (first entry: owner and default access). */
  setPerms(path: string, perms: XsPerm[], opts?: XsCallOptions): Promise<void>;
  /** Starts a transaction and returns its id. */
  transactionStart(): Promise<number>;
  /** Commits (or aborts) a transaction; a conflicting commit throws ErrnoError EAGAIN. */
  transactionEnd(tx: number, commit: boolean): Promise<void>;
  /** Registers a watch; the daemon sends an initial event at once. */
  watch(path: string, token: string): Promise<void>;
  /** Removes a watch. */
  unwatch(path: string, token: string): Promise<void>;
  /** Next watch event, or undefined after `timeoutMs` (or when `signal` aborts). */
  nextEvent(timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent | undefined>;
  /** Closes the connection (idempotent). */
  close(): Promise<void>;
}

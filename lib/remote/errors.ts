/**
 * Errors of remote operations. Each names the node and the cause; command failures carry the stderr tail.
 * @module
 */
import { HyperlabError, TimeoutError } from "../core/errors.ts";

/** Why a remote operation failed. */
export type RemoteCause =
  | "unreachable"
  | "auth"
  | "host-key"
  | "key-file"
  | "connection-lost"
  | "exit"
  | "timeout"
  | "transfer"
  | "cancelled"
  | "agent";

/** A remote operation failed on one node. */
export class RemoteError extends HyperlabError {
  /** The node's inventory name. */
  readonly node: string;
  /** The cause, stable and machine-readable. */
  readonly reason: RemoteCause;
  /** True when retrying the connection could help (network errors, not auth or host-key problems). */
  readonly retryable: boolean;
  constructor(
    node: string,
    cause: RemoteCause,
    message: string,
    options?: { hint?: string; cause?: unknown; retryable?: boolean },
  ) {
    super(`remote:${cause}`, `node ${node}: ${message}`, options);
    this.node = node;
    this.reason = cause;
    this.retryable = options?.retryable ?? false;
  }
}

/** A command exited non-zero (or by a signal). */
export class CommandError extends RemoteError {
  readonly exitCode: number | null;
  readonly stderrTail: string;
  constructor(
    node: string,
    commandLine: string,
    exitCode: number | null,
    signal: string | undefined,
    stderrTail: string,
  ) {
    const how = exitCode === null ? `killed by signal ${signal ?? "?"}` : `exited with status ${exitCode}`;
    const tail = stderrTail.trim() ? `\n  stderr: ${stderrTail.trim().split("\n").slice(-5).join("\n  stderr: ")}` : "";
    super(node, "exit", `command ${how}: ${truncate(commandLine, 200)}${tail}`);
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }
}

/** A remote command or connection did not finish in time. The remote process group was killed. */
export class RemoteTimeoutError extends TimeoutError {
  readonly node: string;
  constructor(node: string, what: string, ms: number, stderrTail = "") {
    super(`node ${node}: ${what}`, ms, stderrTail.trim() ? `  stderr: ${stderrTail.trim().slice(-400)}` : undefined);
    this.node = node;
  }
}

/** Shortens text for messages. */
export function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 3) + "..." : s;
}

/** The node name of a remote error, when it has one. */
export function errorNode(e: unknown): string | undefined {
  return e instanceof RemoteError || e instanceof RemoteTimeoutError ? e.node : undefined;
}

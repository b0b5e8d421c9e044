/**
 * Fan-out: one operation on many nodes with a concurrency limit, per-node results, and a failure policy
 * (`continueOnError`). The result lists failed nodes by name, so a retry can target only those.
 * @module
 */
import pLimit from "p-limit";
import { CancelledError, formatError, HyperlabError, InputError } from "../core/errors.ts";
import { currentRun } from "../core/ambient.ts";
import { CommandError, RemoteError, RemoteTimeoutError } from "./errors.ts";
import type { CommandResult } from "./exec.ts";
import type { NodeRunOptions, RemoteNode } from "./node.ts";
import type { Command } from "./quote.ts";
import { recordNodeOutcome } from "./retry.ts";

/** Outcome of one node in a fan-out. */
export type NodeOutcome<T> =
  | { node: string; status: "ok"; value: T; durationMs: number }
  | {
    node: string;
    status: "failed";
    /** Stable cause: `exit`, `timeout`, `unreachable`, `auth`, `host-key`, `key-file`, `connection-lost`… */
    cause: string;
    error: string;
    /** Last part of stderr, when the failure was a command's. */
    stderrTail?: string;
    /** The command result, when the command ran to an exit status. */
    value?: T;
    durationMs: number;
  }
  | { node: string; status: "skipped"; reason: string };

/** Result of a fan-out. `failed` and `skipped` are what a `--retry` should target. */
export interface FanoutResult<T> {
  /** One entry per node, in node order. */
  outcomes: NodeOutcome<T>[];
  ok: string[];
  failed: string[];
  skipped: string[];
  durationMs: number;
}

/** Options of a fan-out. */
export interface FanoutOptions {
  /** Nodes worked on at once (default 64). */
  concurrency?: number;
  /**
   * false (default): after the first failure, nodes not yet started are skipped, running ones are stopped, and a
   * FanoutError (holding the full result) is thrown. true: every node runs, the result reports failures.
   */
  continueOnError?: boolean;
  signal?: AbortSignal;
}

/** Several nodes failed; `result` holds every node's outcome. */
export class FanoutError extends HyperlabError {
  readonly result: FanoutResult<unknown>;
  constructor(result: FanoutResult<unknown>) {
    const lines = result.outcomes.filter((o) => o.status === "failed").map((o) => `  ${o.error}`);
    super(
      "fanout",
      `${result.failed.length} of ${result.outcomes.length} nodes failed (${result.failed.join(", ")})` +
        (result.skipped.length ? `; ${result.skipped.length} skipped` : "") + `\n${lines.join("\n")}`,
    );
    this.result = result;
  }
}

function causeOf(e: unknown): string {
  if (e instanceof RemoteError) return e.reason;
  if (e instanceof RemoteTimeoutError) return "timeout";
  if (e instanceof CancelledError) return "cancelled";
  if (e instanceof HyperlabError) return e.code;
  return "error";
}

/** Runs `op` on every node; see FanoutOptions for the failure policy. */
export async function fanout<T>(
  nodes: readonly RemoteNode[],
  op: (node: RemoteNode, signal: AbortSignal) => Promise<T>,
  opts: FanoutOptions = {},
): Promise<FanoutResult<T>> {
  const concurrency = opts.concurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InputError("concurrency", "a positive integer", opts.concurrency);
  }
  const started = performance.now();
  const stop = new AbortController();
  const outer = [opts.signal, currentRun()?.signal].filter((s): s is AbortSignal => !!s);
  const signal = AbortSignal.any([stop.signal, ...outer]);
  const limit = pLimit(concurrency);
  const outcomes = await Promise.all(nodes.map((n) =>
    limit(async (): Promise<NodeOutcome<T>> => {
      if (stop.signal.aborted) return { node: n.name, status: "skipped", reason: "an earlier node failed" };
      if (signal.aborted) return { node: n.name, status: "skipped", reason: "cancelled" };
      const t0 = performance.now();
      try {
        const value = await op(n, signal);
        return { node: n.name, status: "ok", value, durationMs: performance.now() - t0 };
      } catch (e) {
        if (stop.signal.aborted && e instanceof CancelledError) {
          return { node: n.name, status: "skipped", reason: "stopped after an earlier node failed" };
        }
        if (!opts.continueOnError) stop.abort(new CancelledError("an earlier node failed"));
        const failed: NodeOutcome<T> = {
          node: n.name,
          status: "failed",
          cause: causeOf(e),
          error: formatError(e),
          durationMs: performance.now() - t0,
        };
        if (e instanceof CommandError) {
          failed.stderrTail = e.stderrTail.slice(-2000);
          failed.value = (e as CommandError & { result?: T }).result;
        }
        return failed;
      }
    })
  ));
  const result: FanoutResult<T> = {
    outcomes,
    ok: outcomes.filter((o) => o.status === "ok").map((o) => o.node),
    failed: outcomes.filter((o) => o.status === "failed").map((o) => o.node),
    skipped: outcomes.filter((o) => o.status === "skipped").map((o) => o.node),
    durationMs: performance.now() - started,
  };
  const run = currentRun();
  for (const o of outcomes) {
    if (o.status === "failed") {
      run?.log.error(o.error, o.node);
      recordNodeOutcome(o.node, "failed", o.cause);
    } else if (o.status === "skipped") recordNodeOutcome(o.node, "skipped", o.reason);
  }
  if (outer.some((s) => s.aborted)) throw outer.find((s) => s.aborted)!.reason ?? new CancelledError();
  if (!opts.continueOnError && result.failed.length) throw new FanoutError(result);
  return result;
}

/** Runs one command on every node (see RemoteNode.run and FanoutOptions). */
export function runOnAll(
  nodes: readonly RemoteNode[],
  command: Command,
  opts: NodeRunOptions & FanoutOptions = {},
): Promise<FanoutResult<CommandResult>> {
  const { concurrency, continueOnError, signal, ...runOpts } = opts;
  return fanout(nodes, (n, s) => n.run(command, { ...runOpts, signal: s }), { concurrency, continueOnError, signal });
}

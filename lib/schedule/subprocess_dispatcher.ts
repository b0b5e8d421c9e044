/**
 * Runs each occurrence in its own `deno run` child process (run_job_main.ts), so a crashing or hanging playbook
 * cannot take the scheduler down. The child's stdin is a pipe from the scheduler: if the scheduler dies, the child
 * sees EOF and ends its run as interrupted.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT_ROOT } from "../core/provenance.ts";
import type { Dispatcher, DispatchHandle, DispatchRequest, DispatchResult } from "./dispatcher.ts";

/** Path of the child entry. */
export const RUN_JOB_MAIN: string = fileURLToPath(new URL("./run_job_main.ts", import.meta.url));

/** The `deno` arguments that run one occurrence. */
export function runJobArgs(
  storePath: string,
  occurrenceId: number,
  parentRun: number | null,
  detached = false,
): string[] {
  return [
    "run",
    "-A",
    "--quiet",
    "--config",
    join(PROJECT_ROOT, "deno.json"),
    RUN_JOB_MAIN,
    "--store",
    storePath,
    "--occurrence",
    String(occurrenceId),
    ...(parentRun ? ["--parent-run", String(parentRun)] : []),
    ...(detached ? ["--detached"] : []),
  ];
}

/** Dispatches runs as child processes. */
export class SubprocessDispatcher implements Dispatcher {
  readonly name = "subprocess";
  readonly storePath: string;
  /** After asking a child to stop, how long to wait before SIGKILL. */
  readonly killGraceMs: number;

  /** `storePath`: the results store the child processes record their runs into. */
  constructor(storePath: string, options: { killGraceMs?: number } = {}) {
    this.storePath = storePath;
    this.killGraceMs = options.killGraceMs ?? 10_000;
  }

  /** Spawns the child that runs the occurrence. */
  start(req: DispatchRequest): DispatchHandle {
    const child = new Deno.Command(Deno.execPath(), {
      args: runJobArgs(this.storePath, req.occurrence.id, req.parentRun),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    let timedOut = false;
    let stopped = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    // Stopping escalates: a `cancel <reason>` line (the run records the reason), SIGTERM after 2 s, SIGKILL after
    // the grace period.
    let termTimer: ReturnType<typeof setTimeout> | undefined;
    const signal = (sig: Deno.Signal) => {
      try {
        child.kill(sig);
      } catch { /* already gone */ }
    };
    const stop = (reason: string) => {
      if (stopped) return;
      stopped = true;
      writer.write(new TextEncoder().encode(`cancel ${reason}\n`)).catch(() => signal("SIGTERM"));
      termTimer = setTimeout(() => signal("SIGTERM"), Math.min(2_000, this.killGraceMs));
      killTimer = setTimeout(() => signal("SIGKILL"), this.killGraceMs);
    };
    const timer = req.timeoutMs === null ? undefined : setTimeout(() => {
      timedOut = true;
      stop(`timed out after ${req.timeoutMs! / 1000} s (job timeout)`);
    }, req.timeoutMs);
    const onAbort = () => stop("the scheduler is shutting down");
    req.signal.addEventListener("abort", onAbort, { once: true });

    const done = (async (): Promise<DispatchResult> => {
      const [status, stdout, stderr] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      clearTimeout(timer);
      clearTimeout(termTimer);
      clearTimeout(killTimer);
      req.signal.removeEventListener("abort", onAbort);
      await writer.close().catch(() => {});
      const last = stdout.trim().split("\n").pop() ?? "";
      let parsed: Partial<DispatchResult> = {};
      try {
        parsed = JSON.parse(last);
      } catch { /* child died before printing */ }
      const tail = stderr.trim().split("\n").slice(-5).join("\n");
      // Killed by a signal we did not send: the run crashed (failed); after our stop request: interrupted.
      const st = parsed.status ?? (status.success ? "ok" : status.signal && stopped ? "interrupted" : "failed");
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      const error = parsed.error ?? (st === "ok" ? null : `run process ${how}${tail ? `: ${tail}` : ""}`);
      return {
        status: st,
        runId: parsed.runId ?? null,
        error: timedOut ? `timed out after ${req.timeoutMs! / 1000} s${error ? `: ${error}` : ""}` : error,
        timedOut,
      };
    })();
    return { pid: child.pid, done };
  }
}

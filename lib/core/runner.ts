/**
 * Runs a playbook: validates parameters, opens a run record, executes `run` with a context, runs deferred cleanup,
 * and records the outcome (ok, failed, interrupted).
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFile } from "node:fs/promises";
import type { ResultsStore } from "../results/store.ts";
import type { RunStatus } from "../results/types.ts";
import { type PlanEntry, withRun } from "./ambient.ts";
import type { ArtifactData, Logger, RunContext, StepHandle, StepOptions } from "./context.ts";
import { CancelledError, formatError, TimeoutError } from "./errors.ts";
import type { LogLevel, Reporter } from "./events.ts";
import { silentReporter } from "./events.ts";
import { basicHostFacts, gitCommit } from "./provenance.ts";
import type { Playbook } from "./playbook.ts";
import { Redactor } from "./redact.ts";
import { parseOrThrow } from "./zod_errors.ts";

/** How to run a playbook. */
export interface RunOptions {
  /** Where the run is recorded. */
  store: ResultsStore;
  /** Record side effects instead of performing them. */
  dryRun?: boolean;
  /** Receives live events (CLI display). */
  reporter?: Reporter;
  /** External cancellation (Ctrl-C handler, scheduler timeout). */
  signal?: AbortSignal;
  /** Source path of the playbook module (for provenance). */
  playbookPath?: string;
  /** Inventory in effect, stored with the run (secrets must already be masked). */
  inventory?: unknown;
  /** Run this one retries. */
  parentRun?: number;
  /** Extra host facts to record. */
  host?: Record<string, unknown>;
  /** Secrets to mask from the start (e.g. inventory passwords). */
  secrets?: string[];
  /** Upper bound for all deferred cleanups together, ms (default 60 s). */
  cleanupTimeoutMs?: number;
}

/** Outcome of a run. */
export interface RunOutcome<R = unknown> {
  runId: number;
  status: Exclude<RunStatus, "running">;
  result?: R;
  error?: unknown;
  ms: number;
}

/** Validates `rawParams` against the playbook's schema; throws InputError naming the flag. */
export function parseParams<P>(pb: Playbook, rawParams: Record<string, unknown>): P {
  return parseOrThrow(pb.params, rawParams, `playbook ${pb.name}: parameter`) as P;
}

/** Runs a playbook to completion and records it. Never throws for failures inside the run; see `status`. */
export async function runPlaybook<R = unknown>(
  pb: Playbook,
  rawParams: Record<string, unknown>,
  opts: RunOptions,
): Promise<RunOutcome<R>> {
  const params = parseParams<Record<string, unknown>>(pb, rawParams);
  const store = opts.store;
  const reporter = opts.reporter ?? silentReporter;
  const redact = new Redactor();
  for (const s of opts.secrets ?? []) redact.add(s);
  const [commit, pbCommit] = await Promise.all([gitCommit(), opts.playbookPath ? gitCommit(opts.playbookPath) : null]);
  const runId = store.createRun({
    playbook: pb.name,
    playbookPath: opts.playbookPath,
    params: redact.value(params),
    gitCommit: commit,
    playbookCommit: pbCommit,
    host: { ...basicHostFacts(), ...opts.host },
    inventory: opts.inventory === undefined ? undefined : redact.value(opts.inventory),
    dryRun: opts.dryRun,
    parentRun: opts.parentRun,
  });
  const t0 = performance.now();
  reporter.event({ type: "run-start", runId, playbook: pb.name, params: redact.value(params), dryRun: !!opts.dryRun });

  const abort = new AbortController();
  const onExternalAbort = () => abort.abort(new CancelledError(String(opts.signal?.reason ?? "cancelled")));
  if (opts.signal?.aborted) onExternalAbort();
  opts.signal?.addEventListener("abort", onExternalAbort, { once: true });

  const stepStack = new AsyncLocalStorage<{ id: number; depth: number }>();
  const defers: (() => Promise<void> | void)[] = [];
  let seq = 0;

  const write = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      // The store must never take the experiment down; report once on stderr.
      console.error(`hyperlab: could not record to ${store.path}: ${formatError(e)}`);
    }
  };
  const log = (level: LogLevel, message: string, source?: string) => {
    const msg = redact.text(message);
    const step = stepStack.getStore()?.id ?? null;
    write(() => store.log(runId, level, msg, step, source ?? null));
    reporter.event({ type: "log", level, message: msg, source });
  };
  const logger: Logger = {
    debug: (m, s) => log("debug", m, s),
    info: (m, s) => log("info", m, s),
    warn: (m, s) => log("warn", m, s),
    error: (m, s) => log("error", m, s),
    log,
  };

  const ctx: RunContext<Record<string, unknown>> = {
    params,
    runId,
    dryRun: !!opts.dryRun,
    signal: abort.signal,
    log: logger,
    async step<T>(name: string, fn: (s: StepHandle) => Promise<T> | T, o: StepOptions = {}): Promise<T> {
      ctx.throwIfCancelled();
      const parent = stepStack.getStore();
      const depth = parent ? parent.depth + 1 : 0;
      const id = store.startStep(runId, ++seq, name, parent?.id ?? null);
      const started = performance.now();
      reporter.event({ type: "step-start", stepId: id, name, depth });
      // Without a timeout the step's signal is the run's (the run itself races cancellation); with one, the step
      // gets its own signal and stops waiting for `fn` when it fires.
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stepSignal = abort.signal;
      let raced: Promise<never> | undefined;
      if (o.timeoutMs !== undefined) {
        const ctrl = new AbortController();
        stepSignal = AbortSignal.any([abort.signal, ctrl.signal]);
        raced = new Promise<never>((_, reject) => {
          const onAbort = () => reject(stepSignal.reason);
          if (stepSignal.aborted) onAbort();
          stepSignal.addEventListener("abort", onAbort, { once: true });
        });
        raced.catch(() => {});
        timer = setTimeout(() => ctrl.abort(new TimeoutError(`step "${name}"`, o.timeoutMs!)), o.timeoutMs);
      }
      try {
        const work = stepStack.run({ id, depth }, () => Promise.resolve(fn({ signal: stepSignal, id })));
        const value = raced ? await Promise.race([work, raced]) : await work;
        write(() => store.endStep(id, "ok"));
        reporter.event({ type: "step-end", stepId: id, name, depth, status: "ok", ms: performance.now() - started });
        return value;
      } catch (e) {
        const cancelled = e instanceof CancelledError || abort.signal.aborted;
        const status = cancelled ? "interrupted" : "failed";
        const msg = redact.text(formatError(e));
        write(() => store.endStep(id, status, msg));
        reporter.event({
          type: "step-end",
          stepId: id,
          name,
          depth,
          status,
          ms: performance.now() - started,
          error: msg,
        });
        throw e;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
    metric(name, value, unit, tags) {
      if (typeof value !== "number" || Number.isNaN(value)) {
        throw new TypeError(`metric ${name}: value must be a number, got ${String(value)}`);
      }
      const step = stepStack.getStore()?.id ?? null;
      write(() => store.metric(runId, name, value, unit ?? null, tags ?? {}, step));
      reporter.event({ type: "metric", name, value, unit, tags });
    },
    async artifact(name: string, data: ArtifactData, mediaType?: string) {
      const bytes = typeof data === "string"
        ? new TextEncoder().encode(data)
        : data instanceof Uint8Array
        ? data
        : new Uint8Array(await readFile(data.path));
      const step = stepStack.getStore()?.id ?? null;
      await store.artifact(runId, name, bytes, mediaType ?? guessMediaType(name), step);
      reporter.event({ type: "artifact", name, size: bytes.byteLength });
    },
    defer(fn) {
      defers.push(fn);
    },
    plan(entry: PlanEntry) {
      const e = { kind: entry.kind, target: entry.target, action: redact.text(entry.action) };
      const step = stepStack.getStore()?.id ?? null;
      write(() => store.plan(runId, e.kind, e.target, e.action, step));
      reporter.event({ type: "plan", entry: e });
    },
    secret(value) {
      redact.add(value);
    },
    facts(node, facts) {
      write(() => store.setFacts(runId, node, redact.value(facts)));
    },
    throwIfCancelled() {
      if (abort.signal.aborted) throw abort.signal.reason instanceof Error ? abort.signal.reason : new CancelledError();
    },
  };

  let status: Exclude<RunStatus, "running"> = "ok";
  let result: R | undefined;
  let error: unknown;
  const cancelled = new Promise<never>((_, reject) => {
    const onAbort = () => reject(abort.signal.reason ?? new CancelledError());
    if (abort.signal.aborted) onAbort();
    abort.signal.addEventListener("abort", onAbort, { once: true });
  });
  cancelled.catch(() => {});
  try {
    result = await Promise.race([
      withRun(ctx as RunContext<unknown>, () => Promise.resolve(pb.run(ctx as never) as R)),
      cancelled,
    ]);
  } catch (e) {
    error = e;
    status = abort.signal.aborted ? "interrupted" : "failed";
  }

  const cleanupErrors = await runDefers(defers, opts.cleanupTimeoutMs ?? 60_000, logger);
  if (status === "ok" && cleanupErrors.length) {
    status = "failed";
    error = cleanupErrors[0];
  }
  const errText = error === undefined ? null : redact.text(formatError(error));
  const ms = performance.now() - t0;
  write(() => {
    if (status === "interrupted") store.markInterrupted(runId, errText ?? "interrupted");
    else store.finishRun(runId, status, errText, result === undefined ? undefined : redact.value(result));
  });
  opts.signal?.removeEventListener("abort", onExternalAbort);
  reporter.event({ type: "run-end", runId, status, ms, error: errText ?? undefined });
  return { runId, status, result, error, ms };
}

async function runDefers(
  defers: (() => Promise<void> | void)[],
  timeoutMs: number,
  log: Logger,
): Promise<unknown[]> {
  const errors: unknown[] = [];
  const deadline = Date.now() + timeoutMs;
  for (const fn of defers.reverse()) {
    const left = deadline - Date.now();
    if (left <= 0) {
      log.error("cleanup: time budget exhausted, remaining cleanups skipped");
      errors.push(new TimeoutError("cleanup", timeoutMs));
      break;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise((_, rej) => timer = setTimeout(() => rej(new TimeoutError("cleanup", left)), left)),
      ]);
    } catch (e) {
      errors.push(e);
      log.error(`cleanup failed: ${formatError(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return errors;
}

function guessMediaType(name: string): string {
  const ext = name.toLowerCase().split(".").pop() ?? "";
  return ({
    svg: "image/svg+xml",
    png: "image/png",
    json: "application/json",
    csv: "text/csv",
    txt: "text/plain",
    log: "text/plain",
    html: "text/html",
  } as Record<string, string>)[ext] ?? "application/octet-stream";
}

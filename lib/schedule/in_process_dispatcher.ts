/**
 * Runs occurrences inside the scheduler process (runPlaybook directly). Much cheaper than a child per run, so the
 * scheduler benchmark uses it to measure dispatch itself; a crashing playbook would take the scheduler with it, so
 * the CLI uses it only with `scheduler --in-process`.
 * @module
 */
import { TimeoutError } from "../core/errors.ts";
import type { ResultsStore } from "../results/store.ts";
import type { Dispatcher, DispatchHandle, DispatchRequest, DispatchResult } from "./dispatcher.ts";
import { runOccurrence } from "./run_occurrence.ts";

/** Dispatches runs in this process. */
export class InProcessDispatcher implements Dispatcher {
  readonly name = "in-process";
  readonly results: ResultsStore;

  /** Runs occurrences against `results` (the store jobs and runs live in). */
  constructor(results: ResultsStore) {
    this.results = results;
  }

  /** Starts the occurrence's run in this process. */
  start(req: DispatchRequest): DispatchHandle {
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = req.timeoutMs === null ? undefined : setTimeout(() => {
      timedOut = true;
      ctrl.abort(new TimeoutError(`job ${req.job.name}`, req.timeoutMs!));
    }, req.timeoutMs);
    const onAbort = () => ctrl.abort(req.signal.reason);
    req.signal.addEventListener("abort", onAbort, { once: true });
    const done = (async (): Promise<DispatchResult> => {
      try {
        const out = await runOccurrence(this.results, req.occurrence.id, {
          signal: ctrl.signal,
          parentRun: req.parentRun,
        });
        return timedOut
          ? {
            ...out,
            timedOut,
            error: `timed out after ${req.timeoutMs! / 1000} s${out.error ? `: ${out.error}` : ""}`,
          }
          : out;
      } finally {
        clearTimeout(timer);
        req.signal.removeEventListener("abort", onAbort);
      }
    })();
    return { pid: null, done };
  }
}

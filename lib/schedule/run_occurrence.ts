/**
 * Runs one occurrence of a job: loads its playbook, runs it with the job's parameters into the results store, and
 * links the run record to the occurrence as soon as the run exists.
 * @module
 */
import { formatError } from "../core/errors.ts";
import type { RunEvent } from "../core/events.ts";
import { runPlaybook } from "../core/runner.ts";
import type { ResultsStore } from "../results/store.ts";
import type { DispatchResult } from "./dispatcher.ts";
import { JobStore } from "./job_store.ts";
import { loadJobPlaybook } from "./job_playbook.ts";

/** Options of one occurrence run. */
export interface RunOccurrenceOptions {
  /** Cancels the run (recorded interrupted). */
  signal?: AbortSignal;
  /** Previous attempt's run id. */
  parentRun?: number | null;
  /** Extra host facts for the run record (e.g. the Slurm job id). */
  host?: Record<string, unknown>;
}

/** Runs occurrence `occurrenceId` in this process. Never throws for run failures; see the result's status. */
export async function runOccurrence(
  results: ResultsStore,
  occurrenceId: number,
  options: RunOccurrenceOptions = {},
): Promise<DispatchResult> {
  const jobs = new JobStore(results);
  const occ = jobs.getOccurrence(occurrenceId);
  const job = jobs.getJob(occ.jobId, { includeRemoved: true });
  let runId: number | null = null;
  try {
    const pb = await loadJobPlaybook(job);
    const reporter = {
      event(e: RunEvent) {
        if (e.type === "run-start") {
          runId = e.runId;
          jobs.updateOccurrence(occ.id, { runId: e.runId });
        }
      },
    };
    const out = await runPlaybook(pb, job.params, {
      store: results,
      signal: options.signal,
      playbookPath: job.playbookPath,
      parentRun: options.parentRun ?? undefined,
      reporter,
      host: {
        schedule: { job: job.name, jobId: job.id, occurrence: occ.id, scheduledAt: occ.scheduledAt },
        ...options.host,
      },
    });
    const error = out.error === undefined ? null : formatError(out.error);
    return { status: out.status, runId: out.runId, error, timedOut: false };
  } catch (e) {
    return { status: "failed", runId, error: formatError(e), timedOut: false };
  }
}

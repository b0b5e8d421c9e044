/**
 * "Did this metric change since last night?": compares the latest successful run of a scheduled job with the one
 * before it (metrics side by side, 95% confidence intervals from repetitions, flagged only when the intervals do not
 * overlap — the statistics of lib/results/compare.ts).
 * @module
 */
import { HyperlabError } from "../core/errors.ts";
import { compareRuns, type Comparison } from "../results/compare.ts";
import type { JobStore } from "./job_store.ts";
import type { MetricChange } from "./notify.ts";
import type { Job } from "./types.ts";

/** Compares the job's latest successful run with the previous one (or with `baseline` when given). */
export function compareJobRuns(jobs: JobStore, jobRef: string | number, baseline?: number): Comparison {
  const job = jobs.getJob(jobRef, { includeRemoved: true });
  const ok = (jobs.db.prepare(
    `SELECT DISTINCT run_id FROM schedule_occurrences WHERE job_id=? AND status='ok' AND run_id IS NOT NULL
     ORDER BY scheduled_at DESC, id DESC LIMIT 2`,
  ).all(job.id) as { run_id: number }[]).map((r) => r.run_id);
  if (ok.length === 0 || (ok.length === 1 && baseline === undefined)) {
    throw new HyperlabError(
      "compare",
      `job "${job.name}" has ${ok.length} successful run(s); comparing needs two (or --baseline <run>)`,
    );
  }
  return compareRuns(jobs.results, [baseline ?? ok[1], ok[0]]);
}

/**
 * Metrics of the job's latest successful run that changed beyond noise against the previous successful run
 * (only metrics with repeated samples in both runs can qualify). Empty when there is nothing to compare.
 */
export function metricChanges(jobs: JobStore, job: Job): MetricChange[] {
  let cmp: Comparison;
  try {
    cmp = compareJobRuns(jobs, job.id);
  } catch {
    return [];
  }
  return cmp.rows.filter((r) => r.significant).map((r) => ({
    metric: r.metric,
    unit: r.unit,
    previousRun: cmp.runs[0],
    previousMean: r.cells[0]!.mean,
    mean: r.cells[1]!.mean,
    deltaPct: r.deltaPct,
  }));
}

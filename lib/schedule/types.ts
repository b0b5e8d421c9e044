/** Row shapes of the scheduler's tables as its API returns them. */

/** How a job treats occurrences that fell due while no scheduler was running. */
export type CatchUp = "skip" | "once";
/** Where a job's runs execute. */
export type Executor = "local" | "slurm";
/** Why an occurrence exists. */
export type OccurrenceKind = "cron" | "catch-up" | "manual";
/** State of one occurrence. `missed` = fell due while down and not run (catch-up skip). */
export type OccurrenceStatus = "pending" | "running" | "ok" | "failed" | "interrupted" | "skipped" | "missed";

/** One scheduled job. Times are epoch ms. */
export interface Job {
  id: number;
  name: string;
  /** Playbook as the user gave it (name or path). */
  playbook: string;
  /** Absolute module path resolved at `schedule add`. */
  playbookPath: string;
  params: Record<string, unknown>;
  inventory: string | null;
  cron: string;
  tz: string;
  catchUp: CatchUp;
  timeoutS: number | null;
  retries: number;
  backoffS: number;
  lockWaitS: number;
  nodes: string[];
  notifyCmd: string | null;
  notifyFile: string | null;
  executor: Executor;
  paused: boolean;
  createdAt: number;
  removedAt: number | null;
  nextDueAt: number | null;
  /** Final status of the latest finished occurrence (for recovery notifications). */
  lastFinal: OccurrenceStatus | null;
}

/** One due time of a job (idempotent by job and scheduled time) and what became of it. */
export interface Occurrence {
  id: number;
  jobId: number;
  scheduledAt: number;
  kind: OccurrenceKind;
  status: OccurrenceStatus;
  readyAt: number;
  attempts: number;
  runId: number | null;
  dispatchedAt: number | null;
  endedAt: number | null;
  scheduler: string | null;
  pid: number | null;
  hostname: string | null;
  slurmJobId: string | null;
  reason: string | null;
}

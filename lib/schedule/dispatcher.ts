/**
 * How an occurrence's run is executed: a Dispatcher starts it and reports how it ended. Implementations: a child
 * process per run (default; a crash of the run cannot take the scheduler down), in-process (benchmarks, tests), and
 * Slurm (sbatch).
 * @module
 */
import type { Job, Occurrence } from "./types.ts";

/** What a dispatcher is asked to run. */
export interface DispatchRequest {
  job: Job;
  occurrence: Occurrence;
  /** 1 for the first attempt, 2 for the first retry… */
  attempt: number;
  /** Run id of the previous attempt (recorded as the new run's parent). */
  parentRun: number | null;
  /** Ends the run (recorded interrupted) after this long; the scheduler records the occurrence as timed out. */
  timeoutMs: number | null;
  /** Aborts when the scheduler shuts down: the run is ended and recorded interrupted. */
  signal: AbortSignal;
  /** Called by the dispatcher when it learns where the run executes (e.g. the Slurm job id after sbatch). */
  onStarted?: (info: { pid?: number | null; slurmJobId?: string | null }) => void;
}

/** How a dispatched run ended. */
export interface DispatchResult {
  status: "ok" | "failed" | "interrupted";
  /** Run record id when the run got far enough to create one. */
  runId: number | null;
  /** Error text for failed/interrupted runs. */
  error: string | null;
  /** True when the per-job timeout ended it. */
  timedOut: boolean;
  /** True when the scheduler stopped following a run that goes on elsewhere (Slurm); the occurrence stays running. */
  detached?: boolean;
}

/** A started run. */
export interface DispatchHandle {
  /** OS process id of the run when it has one on this host. */
  pid: number | null;
  /** Slurm job id when run under Slurm. */
  slurmJobId?: string | null;
  done: Promise<DispatchResult>;
}

/** Starts runs. */
export interface Dispatcher {
  /** `subprocess`, `in-process`, `slurm`. */
  readonly name: string;
  /** Starts the run of `req.occurrence`; the handle's `done` settles when it ended. */
  start(req: DispatchRequest): DispatchHandle;
  /**
   * Follows a run started by a scheduler that has since died (e.g. a Slurm job still queued or running). Optional:
   * without it, such runs are recorded interrupted.
   */
  resume?(req: DispatchRequest): DispatchHandle | null;
}

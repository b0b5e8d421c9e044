/**
 * Scheduled experiment jobs: cron-scheduled playbook runs recorded in the results store, with crash-safe dispatch,
 * a lease so only one scheduler runs jobs, node locks, a concurrency limit, timeouts, retries with backoff,
 * failure/recovery notifications, and local (child process), in-process or Slurm execution.
 *
 * CLI: `deno task schedule add|list|remove|pause|resume|run-now|history`, `deno task scheduler`.
 *
 * ```ts
 * import { addJob, JobStore, Scheduler, SubprocessDispatcher } from "./lib/schedule/mod.ts";
 * const jobs = new JobStore(store);
 * await addJob(jobs, { playbook: "quickstart", cron: "0 3 * * *", tz: "Europe/Paris", params: { times: 2 } });
 * const s = new Scheduler({ results: store, dispatcher: new SubprocessDispatcher(store.path) });
 * await s.run(signal);
 * ```
 * @module
 */
export { addInputFromArgs, splitAddArgs } from "./add_args.ts";
export { addJob, type AddJobInput } from "./add_job.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export { checkTimeZone, type CronSchedule, dueTimes, parseCron } from "./cron.ts";
export type { Dispatcher, DispatchHandle, DispatchRequest, DispatchResult } from "./dispatcher.ts";
export { InProcessDispatcher } from "./in_process_dispatcher.ts";
export { compareJobRuns, metricChanges } from "./job_compare.ts";
export { FINAL_STATUSES, JobStore, type NewJob } from "./job_store.ts";
export { loadJobPlaybook } from "./job_playbook.ts";
export { Lease, type LeaseHolder } from "./lease.ts";
export { lockNodes, type NodeHold, nodeHolds, releaseOrphanLocks, unlockNodes } from "./node_locks.ts";
export {
  deliverNotification,
  type MetricChange,
  type NotifyEvent,
  type NotifySummary,
  notifySummary,
} from "./notify.ts";
export { RoutingDispatcher } from "./routing_dispatcher.ts";
export { runOccurrence, type RunOccurrenceOptions } from "./run_occurrence.ts";
export { type CliIo, SCHEDULE_USAGE, scheduleCommand } from "./schedule_cli.ts";
export { Scheduler, type SchedulerOptions, type TickReport } from "./scheduler.ts";
export { ensureScheduleSchema } from "./schema.ts";
export { sbatch, scancel, type SlurmJobState, slurmJobState, waitForSlurmJob } from "./slurm.ts";
export { shQuote, SlurmDispatcher, type SlurmOptions } from "./slurm_dispatcher.ts";
export {
  followSweep,
  submitSweep,
  SWEEP_TASK_MAIN,
  type SweepPointResult,
  type SweepSpec,
  type SweepSubmission,
} from "./slurm_sweep.ts";
export { RUN_JOB_MAIN, runJobArgs, SubprocessDispatcher } from "./subprocess_dispatcher.ts";
export { sweepPointsFromArgs } from "./sweep_args.ts";
export type { CatchUp, Executor, Job, Occurrence, OccurrenceKind, OccurrenceStatus } from "./types.ts";

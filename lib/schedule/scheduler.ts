/**
 * The scheduler: holds the store's lease, turns due cron times into recorded occurrences (applying the catch-up
 * policy to times that fell due while no scheduler ran), dispatches pending occurrences under the concurrency limit
 * and node locks, applies timeouts and retries with backoff, and sends failure/recovery notifications.
 *
 * Crash safety: every due time is recorded (unique per job and time) in the same transaction that advances the job's
 * next due time, before anything runs; an occurrence is claimed atomically (pending → running) before dispatch. A
 * scheduler that starts after a crash finds `running` occurrences whose process is gone and records them
 * interrupted (their run record too), or follows them when their process still runs.
 * @module
 */
import { formatError } from "../core/errors.ts";
import type { ResultsStore } from "../results/store.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type CronSchedule, dueTimes, parseCron } from "./cron.ts";
import type { Dispatcher, DispatchResult } from "./dispatcher.ts";
import { JobStore } from "./job_store.ts";
import { Lease } from "./lease.ts";
import { releaseOrphanLocks, tryLockNodes, unlockNodes } from "./node_locks.ts";
import { metricChanges } from "./job_compare.ts";
import { deliverNotification, type NotifySummary, notifySummary } from "./notify.ts";
import { pidAlive } from "./pid.ts";
import { immediate } from "./schema.ts";
import type { Job, Occurrence, OccurrenceStatus } from "./types.ts";

/** How a scheduler behaves. */
export interface SchedulerOptions {
  /** The store holding jobs and runs. */
  results: ResultsStore;
  /** How runs are started (subprocess, in-process, Slurm). */
  dispatcher: Dispatcher;
  /** Time source (inject a ManualClock to test clock jumps). */
  clock?: Clock;
  /** Most runs at once (default 4). */
  maxConcurrent?: number;
  /** A due time older than this when noticed counts as missed and follows the job's catch-up policy (default 10 s). */
  graceMs?: number;
  /** Longest sleep between ticks (default 500 ms). */
  tickMs?: number;
  /** Lease time to live (default 5 s); a standby takes over this long after a holder on another host vanished. */
  leaseTtlMs?: number;
  /** This scheduler's id (default a random UUID). */
  id?: string;
  /** Receives one line per notable event (default: stderr with a timestamp). */
  log?: (line: string) => void;
  /** When set, only these occurrences are dispatched and no due times are enqueued (`schedule run-now`). */
  only?: Set<number>;
}

/** What one tick did. */
export interface TickReport {
  /** Whether this scheduler holds the lease. */
  leader: boolean;
  /** Occurrences recorded for due times. */
  enqueued: number;
  /** Occurrences dispatched. */
  dispatched: number;
}

interface Due {
  times: number[];
  more: boolean;
  next: number | null;
}

interface Active {
  occurrenceId: number;
  job: Job;
  done: Promise<void>;
}

/** A scheduler over one results store. */
export class Scheduler {
  readonly id: string;
  readonly jobs: JobStore;
  readonly lease: Lease;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly maxConcurrent: number;
  readonly graceMs: number;
  readonly tickMs: number;
  #log: (line: string) => void;
  #only?: Set<number>;
  #active = new Map<number, Active>();
  #adopted = new Map<number, number>();
  #notifications = new Set<Promise<void>>();
  #crons = new Map<string, CronSchedule>();
  #leader = false;
  #stopping = false;
  #stop = new AbortController();
  #wake = new AbortController();

  /** A scheduler over `o.results`: drive it with `run(signal)` (or `tick()` in tests). */
  constructor(o: SchedulerOptions) {
    this.jobs = new JobStore(o.results);
    this.clock = o.clock ?? systemClock;
    this.dispatcher = o.dispatcher;
    this.maxConcurrent = Math.max(1, o.maxConcurrent ?? 4);
    this.graceMs = o.graceMs ?? 10_000;
    this.tickMs = o.tickMs ?? 500;
    this.lease = new Lease(this.jobs.db, { id: o.id, ttlMs: o.leaseTtlMs });
    this.id = this.lease.id;
    this.#only = o.only;
    this.#log = o.log ?? ((l) => console.error(`${new Date().toISOString()} scheduler: ${l}`));
  }

  /** Number of runs in progress. */
  get activeCount(): number {
    return this.#active.size + this.#adopted.size;
  }

  /** Whether this scheduler held the lease at its last tick. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** One pass: lease, recovery (first time as leader), due times, dispatch. */
  tick(): TickReport {
    const now = this.clock.now();
    if (!this.lease.acquire(now)) {
      if (this.#leader) this.#log("lost the lease to another scheduler; standing by");
      this.#leader = false;
      return { leader: false, enqueued: 0, dispatched: 0 };
    }
    if (!this.#leader) {
      this.#leader = true;
      this.#recover(now);
      this.#warmCrons();
    }
    this.#checkAdopted(now);
    const enqueued = this.#only ? 0 : this.#enqueueDue(now);
    const dispatched = this.#stopping ? 0 : this.#dispatchPending(now);
    return { leader: true, enqueued, dispatched };
  }

  /** Runs ticks until `signal` aborts, then shuts down (runs in progress are ended and recorded interrupted). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.tick();
      } catch (e) {
        this.#log(`tick failed: ${formatError(e)}`);
      }
      const next = this.#only ? null : this.jobs.earliestDue();
      const now = this.clock.now();
      const wait = next === null ? this.tickMs : Math.min(this.tickMs, Math.max(0, next - now));
      this.#wake = new AbortController();
      await this.clock.sleep(wait, AbortSignal.any([signal, this.#wake.signal]));
    }
    await this.shutdown();
  }

  /** Ticks until every occurrence in `ids` is final (for `schedule run-now`). */
  async runUntilFinal(ids: number[], signal?: AbortSignal): Promise<Occurrence[]> {
    const final = () =>
      ids.map((id) => this.jobs.getOccurrence(id)).every((o) => !["pending", "running"].includes(o.status));
    while (!final() && !signal?.aborted) {
      this.tick();
      this.#wake = new AbortController();
      await this.clock.sleep(this.tickMs, AbortSignal.any([this.#wake.signal, ...(signal ? [signal] : [])]));
    }
    if (signal?.aborted) await this.shutdown();
    else await this.idle();
    return ids.map((id) => this.jobs.getOccurrence(id));
  }

  /** Resolves when no run is in progress and every notification was delivered. */
  async idle(): Promise<void> {
    while (this.#active.size || this.#notifications.size) {
      await Promise.all([...[...this.#active.values()].map((a) => a.done), ...this.#notifications]);
    }
  }

  /** Stops dispatching, ends runs in progress (recorded interrupted), waits for them, and gives the lease up. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#stop.abort(new Error("scheduler shutting down"));
    await this.idle();
    if (this.#leader) this.lease.release();
    this.#leader = false;
  }

  /** The parsed schedule of a job, cached by expression and zone (parsing costs ~0.1 ms; due ticks must be quick). */
  #cron(job: Job): CronSchedule {
    const key = `${job.cron}\u0000${job.tz}`;
    let cron = this.#crons.get(key);
    if (!cron) this.#crons.set(key, cron = parseCron(job.cron, job.tz));
    return cron;
  }

  /** Parses every active job's schedule ahead of its first due time. */
  #warmCrons(): void {
    for (const job of this.jobs.listJobs()) {
      try {
        if (!job.paused) this.#cron(job);
      } catch { /* reported when due */ }
    }
  }

  /**
   * Records occurrences for every due job and advances its next due time, all in one transaction (so a crash leaves
   * either both or neither). Jobs sharing a cron expression share the due-time arithmetic.
   */
  #enqueueDue(now: number): number {
    const due = this.jobs.dueJobs(now);
    if (!due.length) return 0;
    const memo = new Map<string, Due>();
    const crons = new Map<number, CronSchedule>();
    for (const job of due) {
      try {
        crons.set(job.id, this.#cron(job));
      } catch (e) {
        this.#log(`job "${job.name}": ${formatError(e)}; paused`);
        this.jobs.setPaused(job.id, true);
      }
    }
    return immediate(this.jobs.db, () => {
      let n = 0;
      for (const job of due) {
        const cron = crons.get(job.id);
        if (!cron) continue;
        const key = `${job.cron}\u0000${job.tz}\u0000${job.nextDueAt}`;
        let d = memo.get(key);
        if (!d) memo.set(key, d = { ...dueTimes(cron, job.nextDueAt!, now), next: cron.nextAfter(now) });
        n += this.#enqueueJob(job, d, now);
      }
      return n;
    });
  }

  #enqueueJob(job: Job, due: Due, now: number): number {
    const { times, more } = due;
    this.jobs.setNextDue(job.id, due.next);
    if (times.length === 0) return 0;
    const latest = times[times.length - 1];
    const onTime = now - latest <= this.graceMs;
    const runLatest = onTime || job.catchUp === "once";
    const missed = runLatest ? times.slice(0, -1) : times;
    const total = missed.length + (more ? 1 : 0);
    const keep = missed.slice(-50);
    for (const [i, t] of keep.entries()) {
      const last = i === keep.length - 1;
      const count = total > keep.length && last ? ` (${more ? "at least " : ""}${total} due times missed in all)` : "";
      this.jobs.recordOccurrence({
        jobId: job.id,
        scheduledAt: t,
        kind: "cron",
        status: "missed",
        readyAt: t,
        endedAt: now,
        reason: `fell due while no scheduler was running; catch-up ${job.catchUp}${
          runLatest ? `, covered by the run at ${new Date(latest).toISOString()}` : ""
        }${count}`,
      });
    }
    if (missed.length && !runLatest) this.#log(`job "${job.name}": ${total} due time(s) missed (catch-up skip)`);
    if (!runLatest) return 0;
    const id = this.jobs.recordOccurrence({
      jobId: job.id,
      scheduledAt: latest,
      kind: onTime ? "cron" : "catch-up",
      status: "pending",
      readyAt: latest,
      reason: onTime ? null : `catch-up once for ${missed.length + 1} missed due time(s)`,
    });
    return id === null ? 0 : 1;
  }

  /**
   * Claims every dispatchable pending occurrence (node locks taken, pending → running) in one transaction, then
   * starts them. A crash between the two leaves claimed occurrences without a process: recovery records them
   * interrupted, so nothing runs twice.
   */
  #dispatchPending(now: number): number {
    const jobCache = new Map<number, Job>();
    const claimed = immediate(this.jobs.db, () => {
      const out: [Occurrence, Job][] = [];
      for (const occ of this.jobs.occurrencesWithStatus("pending")) {
        if (occ.readyAt > now) continue;
        if (this.#only && !this.#only.has(occ.id)) continue;
        let job = jobCache.get(occ.jobId);
        if (!job) jobCache.set(occ.jobId, job = this.jobs.getJob(occ.jobId, { includeRemoved: true }));
        if (job.removedAt !== null || (job.paused && occ.kind !== "manual")) {
          this.jobs.updateOccurrence(occ.id, {
            status: "skipped",
            endedAt: now,
            reason: job.removedAt !== null ? "job removed" : "job paused",
          });
          continue;
        }
        if (this.activeCount + out.length >= this.maxConcurrent) break;
        const holds = tryLockNodes(this.jobs.db, job.nodes, occ.id, job.id, now);
        if (holds.length) {
          if (now - occ.readyAt >= job.lockWaitS * 1000) {
            const who = holds.map((h) => `${h.node} (job ${this.#jobName(h.jobId)}, occurrence ${h.occurrenceId})`);
            this.#finalize(occ.id, job, "skipped", {
              reason: `nodes busy for longer than the lock wait of ${job.lockWaitS} s: ${who.join(", ")}`,
              runId: null,
            }, now);
          }
          continue;
        }
        if (!this.jobs.claim(occ.id, this.id, this.clock.now())) {
          unlockNodes(this.jobs.db, occ.id);
          continue;
        }
        out.push([{ ...occ, status: "running", attempts: occ.attempts + 1 }, job]);
      }
      return out;
    });
    if (claimed.length) immediate(this.jobs.db, () => claimed.forEach(([occ, job]) => this.#start(occ, job)));
    return claimed.length;
  }

  #jobName(id: number): string {
    try {
      return `"${this.jobs.getJob(id, { includeRemoved: true }).name}"`;
    } catch {
      return `#${id}`;
    }
  }

  /** Starts (or with `resume`, follows) a run; false when there was nothing to follow. */
  #start(occ: Occurrence, job: Job, resume = false): boolean {
    const req = {
      job,
      occurrence: occ,
      attempt: occ.attempts,
      parentRun: occ.runId,
      timeoutMs: job.timeoutS ? job.timeoutS * 1000 : null,
      signal: this.#stop.signal,
      onStarted: (info: { pid?: number | null; slurmJobId?: string | null }) => {
        this.jobs.updateOccurrence(occ.id, {
          ...(info.pid !== undefined ? { pid: info.pid } : {}),
          ...(info.slurmJobId !== undefined ? { slurmJobId: info.slurmJobId } : {}),
        });
      },
    };
    let handle;
    try {
      handle = resume ? (this.dispatcher.resume?.(req) ?? null) : this.dispatcher.start(req);
    } catch (e) {
      if (resume) return false;
      this.#finish(occ.id, job, { status: "failed", runId: null, error: formatError(e), timedOut: false });
      return true;
    }
    if (!handle) return false;
    if (!resume) this.jobs.updateOccurrence(occ.id, { pid: handle.pid ?? Deno.pid, runId: null });
    const done = handle.done.then(
      (res) => this.#finish(occ.id, job, res),
      (e) => this.#finish(occ.id, job, { status: "failed", runId: null, error: formatError(e), timedOut: false }),
    );
    this.#active.set(occ.id, { occurrenceId: occ.id, job, done });
    return true;
  }

  #finish(occId: number, job: Job, res: DispatchResult): void {
    this.#active.delete(occId);
    if (res.detached) return; // still running elsewhere (Slurm); the next scheduler follows it
    unlockNodes(this.jobs.db, occId);
    const now = this.clock.now();
    const occ = this.jobs.getOccurrence(occId);
    const runId = res.runId ?? occ.runId;
    this.#closeDeadRun(runId, res.error);
    const status: OccurrenceStatus = res.status === "ok"
      ? "ok"
      : res.status === "failed" || res.timedOut
      ? "failed"
      : "interrupted";
    const current = this.jobs.getJob(job.id, { includeRemoved: true });
    if (status === "failed" && occ.attempts <= current.retries && current.removedAt === null && !this.#stopping) {
      const delay = current.backoffS * 1000 * 2 ** (occ.attempts - 1);
      this.jobs.updateOccurrence(occId, {
        status: "pending",
        readyAt: now + delay,
        runId,
        reason: `attempt ${occ.attempts} failed: ${res.error ?? "failed"}; retry in ${delay / 1000} s`,
      });
      this.#log(`job "${job.name}" occurrence ${occId}: attempt ${occ.attempts} failed; retry in ${delay / 1000} s`);
    } else {
      this.#finalize(occId, current, status, { reason: res.error, runId }, now);
    }
    this.#wake.abort();
  }

  /** A run whose process died without finishing its record is recorded interrupted. */
  #closeDeadRun(runId: number | null, error: string | null): void {
    const run = runId === null ? undefined : this.jobs.results.getRun(runId);
    if (run?.status === "running" && (run.hostname !== Deno.hostname() || !pidAlive(run.pid))) {
      this.jobs.results.markInterrupted(run.id, error ?? "the run's process ended without finishing the run");
    }
  }

  /** Records a final status, remembers it on the job, and notifies on failure or recovery. */
  #finalize(
    occId: number,
    job: Job,
    status: OccurrenceStatus,
    o: { reason: string | null; runId: number | null },
    now: number,
  ): void {
    this.jobs.updateOccurrence(occId, { status, endedAt: now, reason: o.reason, runId: o.runId });
    if (status === "skipped") return;
    const prev = this.jobs.getJob(job.id, { includeRemoved: true }).lastFinal;
    this.jobs.setLastFinal(job.id, status);
    this.#log(`job "${job.name}" occurrence ${occId}: ${status}${o.reason ? ` (${o.reason.split("\n")[0]})` : ""}`);
    if (!job.notifyCmd && !job.notifyFile) return;
    const failed = status === "failed" || status === "interrupted";
    const recovered = status === "ok" && (prev === "failed" || prev === "interrupted");
    if ((failed && !this.#stopping) || recovered) {
      this.#notify(job, notifySummary(failed ? "failure" : "recovery", job, this.jobs.getOccurrence(occId), now));
    }
    if (status === "ok") {
      const changes = metricChanges(this.jobs, job);
      if (changes.length) {
        this.#notify(job, { ...notifySummary("change", job, this.jobs.getOccurrence(occId), now), changes });
      }
    }
  }

  #notify(job: Job, summary: NotifySummary): void {
    const p = deliverNotification(job, summary).then((problems) => {
      for (const m of problems) this.#log(`job "${job.name}": notification failed: ${m}`);
    }).finally(() => this.#notifications.delete(p));
    this.#notifications.add(p);
  }

  /** Handles `running` occurrences left by a scheduler that is gone. */
  #recover(now: number): void {
    for (const occ of this.jobs.occurrencesWithStatus("running")) {
      if (this.#active.has(occ.id) || this.#adopted.has(occ.id)) continue;
      const job = this.jobs.getJob(occ.jobId, { includeRemoved: true });
      if (occ.slurmJobId && this.#start(occ, job, true)) {
        this.#log(`following Slurm job ${occ.slurmJobId} of job "${job.name}" (occurrence ${occ.id})`);
        continue;
      }
      const here = occ.hostname === Deno.hostname();
      if (here && occ.pid !== Deno.pid && pidAlive(occ.pid)) {
        this.#log(`run of job "${job.name}" (occurrence ${occ.id}, pid ${occ.pid}) still going; following it`);
        this.#adopted.set(occ.id, occ.pid!);
        continue;
      }
      this.#settleOrphan(occ, job, now);
    }
    // Due times recorded by a scheduler that stopped before starting them follow the catch-up policy too.
    for (const occ of this.jobs.occurrencesWithStatus("pending")) {
      if (occ.kind !== "cron" || occ.attempts > 0 || now - occ.scheduledAt <= this.graceMs) continue;
      const job = this.jobs.getJob(occ.jobId, { includeRemoved: true });
      if (job.catchUp !== "skip") continue;
      this.jobs.updateOccurrence(occ.id, {
        status: "missed",
        endedAt: now,
        reason: "recorded, but the scheduler stopped before starting it; catch-up skip",
      });
    }
    releaseOrphanLocks(this.jobs.db);
  }

  #checkAdopted(now: number): void {
    for (const [occId, pid] of this.#adopted) {
      if (pidAlive(pid)) continue;
      this.#adopted.delete(occId);
      const occ = this.jobs.getOccurrence(occId);
      this.#settleOrphan(occ, this.jobs.getJob(occ.jobId, { includeRemoved: true }), now);
      unlockNodes(this.jobs.db, occId);
    }
  }

  /** Finalizes an occurrence whose process is gone, from what its run record says. */
  #settleOrphan(occ: Occurrence, job: Job, now: number): void {
    this.jobs.results.recoverStale();
    const run = occ.runId === null ? undefined : this.jobs.results.getRun(occ.runId);
    if (run && (run.status === "ok" || run.status === "failed")) {
      this.#finish(occ.id, job, { status: run.status, runId: run.id, error: run.error, timedOut: false });
      return;
    }
    if (run?.status === "running") {
      this.jobs.results.markInterrupted(run.id, "scheduler ended while the run was going (killed or crashed)");
    }
    this.#finalize(occ.id, job, "interrupted", {
      reason: `the scheduler ended while this run was going (killed or crashed)${
        run ? `; run ${run.id} interrupted` : ""
      }`,
      runId: occ.runId,
    }, now);
  }
}

/**
 * Jobs and occurrences in the results store's database: create, look up, list, pause, remove (history kept), and the
 * occurrence state changes the scheduler makes.
 * @module
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { InputError } from "../core/errors.ts";
import type { ResultsStore } from "../results/store.ts";
import { ensureScheduleSchema, immediate } from "./schema.ts";
import type { CatchUp, Executor, Job, Occurrence, OccurrenceKind, OccurrenceStatus } from "./types.ts";

/** What a new job is made of (validated beforehand by `addJob`). */
export interface NewJob {
  name: string;
  playbook: string;
  playbookPath: string;
  params: Record<string, unknown>;
  inventory?: string | null;
  cron: string;
  tz: string;
  catchUp: CatchUp;
  timeoutS?: number | null;
  retries?: number;
  backoffS?: number;
  lockWaitS?: number;
  nodes?: string[];
  notifyCmd?: string | null;
  notifyFile?: string | null;
  executor?: Executor;
  nextDueAt: number | null;
}

type Row = Record<string, unknown>;

function toJob(r: Row): Job {
  return {
    id: r.id as number,
    name: r.name as string,
    playbook: r.playbook as string,
    playbookPath: r.playbook_path as string,
    params: JSON.parse(r.params_json as string),
    inventory: r.inventory as string | null,
    cron: r.cron as string,
    tz: r.tz as string,
    catchUp: r.catch_up as CatchUp,
    timeoutS: r.timeout_s as number | null,
    retries: r.retries as number,
    backoffS: r.backoff_s as number,
    lockWaitS: r.lock_wait_s as number,
    nodes: JSON.parse(r.nodes_json as string),
    notifyCmd: r.notify_cmd as string | null,
    notifyFile: r.notify_file as string | null,
    executor: r.executor as Executor,
    paused: r.paused === 1,
    createdAt: r.created_at as number,
    removedAt: r.removed_at as number | null,
    nextDueAt: r.next_due_at as number | null,
    lastFinal: r.last_final as OccurrenceStatus | null,
  };
}

function toOccurrence(r: Row): Occurrence {
  return {
    id: r.id as number,
    jobId: r.job_id as number,
    scheduledAt: r.scheduled_at as number,
    kind: r.kind as OccurrenceKind,
    status: r.status as OccurrenceStatus,
    readyAt: r.ready_at as number,
    attempts: r.attempts as number,
    runId: r.run_id as number | null,
    dispatchedAt: r.dispatched_at as number | null,
    endedAt: r.ended_at as number | null,
    scheduler: r.scheduler as string | null,
    pid: r.pid as number | null,
    hostname: r.hostname as string | null,
    slurmJobId: r.slurm_job_id as string | null,
    reason: r.reason as string | null,
  };
}

const OCC_COLUMNS: Record<string, string> = {
  status: "status",
  readyAt: "ready_at",
  attempts: "attempts",
  runId: "run_id",
  dispatchedAt: "dispatched_at",
  endedAt: "ended_at",
  scheduler: "scheduler",
  pid: "pid",
  hostname: "hostname",
  slurmJobId: "slurm_job_id",
  reason: "reason",
};

/** Final occurrence states (nothing more happens to them). */
export const FINAL_STATUSES: readonly OccurrenceStatus[] = ["ok", "failed", "interrupted", "skipped", "missed"];

/** The scheduler's tables in one results store. */
export class JobStore {
  /** The shared database. */
  readonly db: DatabaseSync;
  /** The results store the jobs' runs are recorded in. */
  readonly results: ResultsStore;

  #stmts = new Map<string, StatementSync>();

  constructor(results: ResultsStore) {
    this.results = results;
    this.db = results.db;
    ensureScheduleSchema(this.db);
  }

  /** A prepared statement, cached per SQL text. */
  #prepare(sql: string): StatementSync {
    let st = this.#stmts.get(sql);
    if (!st) this.#stmts.set(sql, st = this.db.prepare(sql));
    return st;
  }

  /** Inserts a job; the name must be unused among current jobs. */
  insertJob(j: NewJob, now: number): Job {
    if (this.findJob(j.name)) throw new InputError("--name", "a name no current job uses", j.name);
    const res = this.#prepare(
      `INSERT INTO schedule_jobs(name, playbook, playbook_path, params_json, inventory, cron, tz, catch_up, timeout_s,
        retries, backoff_s, lock_wait_s, nodes_json, notify_cmd, notify_file, executor, created_at, next_due_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      j.name,
      j.playbook,
      j.playbookPath,
      JSON.stringify(j.params),
      j.inventory ?? null,
      j.cron,
      j.tz,
      j.catchUp,
      j.timeoutS ?? null,
      j.retries ?? 0,
      j.backoffS ?? 30,
      j.lockWaitS ?? 600,
      JSON.stringify(j.nodes ?? []),
      j.notifyCmd ?? null,
      j.notifyFile ?? null,
      j.executor ?? "local",
      now,
      j.nextDueAt,
    );
    return this.getJob(Number(res.lastInsertRowid));
  }

  /** A current (not removed) job by id or name, or undefined. */
  findJob(ref: string | number): Job | undefined {
    const byId = typeof ref === "number" || /^\d+$/.test(ref);
    const r = this.#prepare(
      byId
        ? "SELECT * FROM schedule_jobs WHERE id=? AND removed_at IS NULL"
        : "SELECT * FROM schedule_jobs WHERE name=? AND removed_at IS NULL",
    ).get(byId ? Number(ref) : ref) as Row | undefined;
    return r ? toJob(r) : undefined;
  }

  /** A job by id or name, including removed ones (for history); throws InputError naming `job` when unknown. */
  getJob(ref: string | number, options: { includeRemoved?: boolean } = {}): Job {
    const cur = this.findJob(ref);
    if (cur) return cur;
    if (options.includeRemoved !== false) {
      const byId = typeof ref === "number" || /^\d+$/.test(ref);
      const r = this.#prepare(
        byId
          ? "SELECT * FROM schedule_jobs WHERE id=?"
          : "SELECT * FROM schedule_jobs WHERE name=? ORDER BY id DESC LIMIT 1",
      ).get(byId ? Number(ref) : ref) as Row | undefined;
      if (r && (options.includeRemoved || byId)) return toJob(r);
    }
    const names = this.listJobs().map((j) => j.name);
    throw new InputError("job", "the name or id of a scheduled job", ref, {
      hint: names.length ? `current jobs: ${names.slice(0, 10).join(", ")}` : "no jobs yet: deno task schedule add …",
    });
  }

  /** Current jobs (or all, with `includeRemoved`), by id. */
  listJobs(options: { includeRemoved?: boolean } = {}): Job[] {
    const sql = options.includeRemoved
      ? "SELECT * FROM schedule_jobs ORDER BY id"
      : "SELECT * FROM schedule_jobs WHERE removed_at IS NULL ORDER BY id";
    return (this.#prepare(sql).all() as Row[]).map(toJob);
  }

  /** Removes a job: it stops being scheduled, pending occurrences are skipped, its history stays. */
  removeJob(ref: string | number, now: number): Job {
    const job = this.getJob(ref, { includeRemoved: false });
    immediate(this.db, () => {
      this.#prepare("UPDATE schedule_jobs SET removed_at=? WHERE id=?").run(now, job.id);
      this.#prepare(
        "UPDATE schedule_occurrences SET status='skipped', ended_at=?, reason='job removed' WHERE job_id=? AND status='pending'",
      ).run(now, job.id);
    });
    return { ...job, removedAt: now };
  }

  /** Pauses or resumes a job. Resuming sets the next due time to `nextDueAt` (no catch-up for paused time). */
  setPaused(ref: string | number, paused: boolean, nextDueAt?: number | null): Job {
    const job = this.getJob(ref, { includeRemoved: false });
    if (paused) this.#prepare("UPDATE schedule_jobs SET paused=1 WHERE id=?").run(job.id);
    else {
      this.#prepare("UPDATE schedule_jobs SET paused=0, next_due_at=? WHERE id=?").run(
        nextDueAt ?? job.nextDueAt,
        job.id,
      );
    }
    return this.getJob(job.id);
  }

  /** Sets a job's next due time. */
  setNextDue(jobId: number, at: number | null): void {
    this.#prepare("UPDATE schedule_jobs SET next_due_at=? WHERE id=?").run(at, jobId);
  }

  /** Remembers the final status of a job's latest finished occurrence. */
  setLastFinal(jobId: number, status: OccurrenceStatus): void {
    this.#prepare("UPDATE schedule_jobs SET last_final=? WHERE id=?").run(status, jobId);
  }

  /** Jobs due at `now` (not paused, not removed). */
  dueJobs(now: number): Job[] {
    return (this.#prepare(
      "SELECT * FROM schedule_jobs WHERE removed_at IS NULL AND paused=0 AND next_due_at IS NOT NULL AND next_due_at<=? ORDER BY next_due_at, id",
    ).all(now) as Row[]).map(toJob);
  }

  /** Earliest next due time among active jobs, or null. */
  earliestDue(): number | null {
    const r = this.#prepare(
      "SELECT MIN(next_due_at) AS t FROM schedule_jobs WHERE removed_at IS NULL AND paused=0",
    ).get() as Row;
    return (r.t as number | null) ?? null;
  }

  /**
   * Records an occurrence unless one exists for (job, scheduledAt) — the idempotency key that keeps a due time from
   * running twice. Returns the new id, or null when it already existed.
   */
  recordOccurrence(o: {
    jobId: number;
    scheduledAt: number;
    kind: OccurrenceKind;
    status: "pending" | "missed" | "skipped";
    readyAt: number;
    reason?: string | null;
    endedAt?: number | null;
  }): number | null {
    const res = this.#prepare(
      `INSERT OR IGNORE INTO schedule_occurrences(job_id, scheduled_at, kind, status, ready_at, reason, ended_at)
       VALUES (?,?,?,?,?,?,?)`,
    ).run(o.jobId, o.scheduledAt, o.kind, o.status, o.readyAt, o.reason ?? null, o.endedAt ?? null);
    return res.changes === 0 ? null : Number(res.lastInsertRowid);
  }

  /** One occurrence; throws InputError when unknown. */
  getOccurrence(id: number): Occurrence {
    const r = this.#prepare("SELECT * FROM schedule_occurrences WHERE id=?").get(id) as Row | undefined;
    if (!r) throw new InputError("occurrence", "the id of a recorded occurrence", id);
    return toOccurrence(r);
  }

  /** Occurrences with `status`, oldest ready first. */
  occurrencesWithStatus(status: OccurrenceStatus, limit = 10_000): Occurrence[] {
    return (this.#prepare(
      "SELECT * FROM schedule_occurrences WHERE status=? ORDER BY ready_at, id LIMIT ?",
    ).all(status, limit) as Row[]).map(toOccurrence);
  }

  /** A job's occurrences, newest first. */
  history(jobId: number, limit = 50): Occurrence[] {
    return (this.#prepare(
      "SELECT * FROM schedule_occurrences WHERE job_id=? ORDER BY scheduled_at DESC, id DESC LIMIT ?",
    ).all(jobId, limit) as Row[]).map(toOccurrence);
  }

  /** Atomically moves a pending occurrence to running for `scheduler`; false when someone else got it first. */
  claim(id: number, scheduler: string, now: number): boolean {
    const res = this.#prepare(
      `UPDATE schedule_occurrences SET status='running', scheduler=?, dispatched_at=?, attempts=attempts+1,
         hostname=?, reason=NULL WHERE id=? AND status='pending'`,
    ).run(scheduler, now, Deno.hostname(), id);
    return res.changes === 1;
  }

  /** Updates fields of an occurrence. */
  updateOccurrence(id: number, patch: Partial<Omit<Occurrence, "id" | "jobId" | "scheduledAt" | "kind">>): void {
    const sets: string[] = [];
    const args: SQLInputValue[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const col = OCC_COLUMNS[k];
      if (!col) throw new TypeError(`updateOccurrence: unknown field ${k}`);
      sets.push(`${col}=?`);
      args.push(v as SQLInputValue);
    }
    if (!sets.length) return;
    this.#prepare(`UPDATE schedule_occurrences SET ${sets.join(", ")} WHERE id=?`).run(...args, id);
  }
}

/**
 * Tables of the scheduler, kept in the results store's SQLite file next to the runs they produce.
 * Created idempotently by `ensureScheduleSchema`.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/** Statements creating the scheduler's tables (idempotent). */
export const SCHEDULE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS schedule_jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  playbook TEXT NOT NULL,
  playbook_path TEXT NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  inventory TEXT,
  cron TEXT NOT NULL,
  tz TEXT NOT NULL,
  catch_up TEXT NOT NULL CHECK (catch_up IN ('skip','once')),
  timeout_s REAL,
  retries INTEGER NOT NULL DEFAULT 0,
  backoff_s REAL NOT NULL DEFAULT 30,
  lock_wait_s REAL NOT NULL DEFAULT 600,
  nodes_json TEXT NOT NULL DEFAULT '[]',
  notify_cmd TEXT,
  notify_file TEXT,
  executor TEXT NOT NULL DEFAULT 'local' CHECK (executor IN ('local','slurm')),
  paused INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL,
  removed_at REAL,
  next_due_at REAL,
  last_final TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS schedule_jobs_name ON schedule_jobs(name) WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS schedule_jobs_due ON schedule_jobs(next_due_at) WHERE removed_at IS NULL AND paused = 0;
CREATE TABLE IF NOT EXISTS schedule_occurrences (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES schedule_jobs(id),
  scheduled_at REAL NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cron','catch-up','manual')),
  status TEXT NOT NULL CHECK (status IN ('pending','running','ok','failed','interrupted','skipped','missed')),
  ready_at REAL NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER,
  dispatched_at REAL,
  ended_at REAL,
  scheduler TEXT,
  pid INTEGER,
  hostname TEXT,
  slurm_job_id TEXT,
  reason TEXT,
  UNIQUE (job_id, scheduled_at)
);
CREATE INDEX IF NOT EXISTS schedule_occ_status ON schedule_occurrences(status, ready_at);
CREATE TABLE IF NOT EXISTS schedule_lease (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  pid INTEGER NOT NULL,
  hostname TEXT NOT NULL,
  acquired_at REAL NOT NULL,
  expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_locks (
  node TEXT PRIMARY KEY,
  occurrence_id INTEGER NOT NULL,
  job_id INTEGER NOT NULL,
  acquired_at REAL NOT NULL
);
`;

/** Creates the scheduler's tables in `db` when missing. */
export function ensureScheduleSchema(db: DatabaseSync): void {
  db.exec(SCHEDULE_SCHEMA_SQL);
}

/** Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` (write lock taken up front, so two processes never deadlock). */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const v = fn();
    db.exec("COMMIT");
    return v;
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

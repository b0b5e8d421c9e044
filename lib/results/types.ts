/** Row shapes of the results store, as the public API returns them. */

/** Final or current state of a run. */
export type RunStatus = "running" | "ok" | "failed" | "interrupted";
/** State of one step. */
export type StepStatus = "running" | "ok" | "failed" | "skipped" | "interrupted";

/** One run of a playbook. */
export interface RunRow {
  id: number;
  uuid: string;
  playbook: string;
  playbook_path: string | null;
  params: Record<string, unknown>;
  git_commit: string | null;
  playbook_commit: string | null;
  host: Record<string, unknown>;
  inventory: unknown;
  status: RunStatus;
  dry_run: boolean;
  started_at: number;
  ended_at: number | null;
  error: string | null;
  result: unknown;
  pid: number | null;
  hostname: string | null;
  parent_run: number | null;
}

/** One recorded step. Times are epoch milliseconds. */
export interface StepRow {
  id: number;
  run_id: number;
  parent_id: number | null;
  seq: number;
  name: string;
  status: StepStatus;
  started_at: number;
  ended_at: number | null;
  error: string | null;
}

/** One log line. */
export interface LogRow {
  id: number;
  step_id: number | null;
  ts: number;
  level: string;
  source: string | null;
  message: string;
}

/** One metric sample. */
export interface MetricRow {
  id: number;
  step_id: number | null;
  ts: number;
  name: string;
  value: number;
  unit: string | null;
  tags: Record<string, string>;
}

/** One artifact (bytes stored in the database). */
export interface ArtifactRow {
  id: number;
  step_id: number | null;
  name: string;
  size: number;
  sha256: string;
  media_type: string | null;
}

/** One planned side effect recorded under --dry-run (or as an audit trail of what ran). */
export interface PlanRow {
  id: number;
  step_id: number | null;
  kind: string;
  target: string;
  action: string;
}

/**
 * The results store: every run of a playbook, its steps, logs, metrics, artifacts and plan, in one SQLite file
 * (`node:sqlite`). Writes are autocommitted in WAL mode, so a run killed mid-way keeps everything written up to then;
 * opening the store marks runs whose process is gone as `interrupted`.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { HyperlabError, InputError } from "../core/errors.ts";
import { SCHEMA_SQL, SCHEMA_VERSION } from "./schema.ts";
import type { ArtifactRow, LogRow, MetricRow, PlanRow, RunRow, RunStatus, StepRow, StepStatus } from "./types.ts";
import { processAlive } from "../core/process.ts";

/** Default location of the store, relative to the current directory. */
export const DEFAULT_STORE_PATH = ".hyperlab/results.db";

/** What a new run starts with. */
export interface NewRun {
  playbook: string;
  playbookPath?: string;
  params: Record<string, unknown>;
  gitCommit?: string | null;
  playbookCommit?: string | null;
  host?: Record<string, unknown>;
  inventory?: unknown;
  dryRun?: boolean;
  parentRun?: number;
}

type Row = Record<string, unknown>;

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** Opens (creating when needed) a results store. Use `ResultsStore.open(path)`. */
export class ResultsStore implements Disposable {
  readonly path: string;
  readonly #db: DatabaseSync;
  #stmts = new Map<string, StatementSync>();
  #closed = false;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /**
   * Opens the store at `path` (":memory:" allowed). Fails with a clear error when the directory is not writable or
   * the file is not a hyperlab store.
   */
  static open(path: string = DEFAULT_STORE_PATH, options: { recoverStale?: boolean } = {}): ResultsStore {
    const full = path === ":memory:" ? path : resolve(path);
    if (full !== ":memory:") {
      try {
        mkdirSync(dirname(full), { recursive: true });
      } catch (e) {
        throw new InputError("results path", "a writable location", full, {
          hint: `cannot create ${dirname(full)}: ${(e as Error).message}; pass --results <file>`,
        });
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(full);
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      // Checkpoints fsync; at the default (1000 pages) they dominate a busy run's write cost. The WAL is checkpointed
      // when a run finishes instead (and by SQLite past 10000 pages, ~40 MB).
      db.exec("PRAGMA wal_autocheckpoint = 10000");
      db.exec("PRAGMA foreign_keys = ON");
      db.exec(SCHEMA_SQL);
    } catch (e) {
      const msg = (e as Error).message;
      if (/not a database|malformed|file is encrypted/i.test(msg)) {
        throw new HyperlabError("store", `results store ${full} is corrupt or not a SQLite database (${msg})`, {
          hint: "move it aside and a new store is created; nothing in it can be read",
        });
      }
      if (/readonly|unable to open|permission|access/i.test(msg)) {
        throw new InputError("results path", "a writable SQLite file", full, { hint: msg });
      }
      throw new HyperlabError("store", `cannot open results store ${full}: ${msg}`);
    }
    const store = new ResultsStore(full, db);
    store.#checkVersion();
    if (options.recoverStale !== false) store.recoverStale();
    return store;
  }

  #checkVersion(): void {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key='schema_version'").get() as Row | undefined;
    if (!row) {
      this.#db.prepare("INSERT INTO meta(key,value) VALUES('schema_version',?)").run(String(SCHEMA_VERSION));
    } else if (Number(row.value) > SCHEMA_VERSION) {
      throw new HyperlabError(
        "store",
        `results store ${this.path} has schema version ${row.value}, newer than this hyperlab (${SCHEMA_VERSION})`,
      );
    }
  }

  /** The underlying database, for modules that keep their own tables in the same store (scheduler). */
  get db(): DatabaseSync {
    return this.#db;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Marks runs left `running` by a process that is gone (on this host) as `interrupted`. Returns their ids. */
  recoverStale(): number[] {
    const rows = this.#stmt("SELECT id, pid, hostname FROM runs WHERE status='running'").all() as Row[];
    const me = hostname();
    const stale: number[] = [];
    for (const r of rows) {
      const pid = r.pid as number | null;
      if (r.hostname === me && pid !== null && pid !== Deno.pid && !processAlive(pid)) stale.push(r.id as number);
    }
    for (const id of stale) this.markInterrupted(id, "process ended without finishing the run (killed or crashed)");
    return stale;
  }

  /** Records the start of a run and returns its id. */
  createRun(r: NewRun): number {
    const res = this.#stmt(
      `INSERT INTO runs(uuid, playbook, playbook_path, params_json, git_commit, playbook_commit, host_json,
        inventory_json, status, dry_run, started_at, pid, hostname, parent_run)
       VALUES (?,?,?,?,?,?,?,?,'running',?,?,?,?,?)`,
    ).run(
      crypto.randomUUID(),
      r.playbook,
      r.playbookPath ?? null,
      JSON.stringify(r.params ?? {}),
      r.gitCommit ?? null,
      r.playbookCommit ?? null,
      JSON.stringify(r.host ?? {}),
      r.inventory === undefined ? null : JSON.stringify(r.inventory),
      r.dryRun ? 1 : 0,
      Date.now(),
      Deno.pid,
      hostname(),
      r.parentRun ?? null,
    );
    return Number(res.lastInsertRowid);
  }

  /** Updates the host facts of a run (merged into what is there). */
  setHost(runId: number, host: Record<string, unknown>): void {
    const cur = this.getRun(runId)?.host ?? {};
    this.#stmt("UPDATE runs SET host_json=? WHERE id=?").run(JSON.stringify({ ...cur, ...host }), runId);
  }

  /** Stores facts of one node for a run. */
  setFacts(runId: number, node: string, facts: unknown): void {
    this.#stmt("INSERT OR REPLACE INTO facts(run_id,node,facts_json) VALUES (?,?,?)").run(
      runId,
      node,
      JSON.stringify(facts),
    );
  }

  /** Facts recorded for a run, by node. */
  facts(runId: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.#stmt("SELECT node, facts_json FROM facts WHERE run_id=?").all(runId) as Row[]) {
      out[r.node as string] = JSON.parse(r.facts_json as string);
    }
    return out;
  }

  /** Records the end of a run (and checkpoints the WAL into the database file). */
  finishRun(runId: number, status: Exclude<RunStatus, "running">, error?: string | null, result?: unknown): void {
    this.#stmt("UPDATE runs SET status=?, ended_at=?, error=?, result_json=? WHERE id=?").run(
      status,
      Date.now(),
      error ?? null,
      result === undefined ? null : JSON.stringify(result),
      runId,
    );
    this.checkpoint();
  }

  /** Copies the WAL into the database file without blocking readers or writers (best effort). */
  checkpoint(): void {
    if (this.path === ":memory:") return;
    try {
      this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch { /* busy: SQLite checkpoints later */ }
  }

  /** Marks a run and its open steps interrupted (used on Ctrl-C and for stale runs). */
  markInterrupted(runId: number, reason: string): void {
    const now = Date.now();
    this.#db.exec("BEGIN");
    try {
      this.#stmt("UPDATE steps SET status='interrupted', ended_at=?, error=? WHERE run_id=? AND status='running'")
        .run(now, reason, runId);
      this.#stmt("UPDATE runs SET status='interrupted', ended_at=?, error=? WHERE id=? AND status='running'").run(
        now,
        reason,
        runId,
      );
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Records the start of a step; returns its id. */
  startStep(runId: number, seq: number, name: string, parentId: number | null = null): number {
    const res = this.#stmt(
      "INSERT INTO steps(run_id,parent_id,seq,name,status,started_at) VALUES (?,?,?,?,'running',?)",
    ).run(runId, parentId, seq, name, performance.timeOrigin + performance.now());
    return Number(res.lastInsertRowid);
  }

  /** Records the end of a step. */
  endStep(stepId: number, status: Exclude<StepStatus, "running">, error?: string | null): void {
    this.#stmt("UPDATE steps SET status=?, ended_at=?, error=? WHERE id=?").run(
      status,
      performance.timeOrigin + performance.now(),
      error ?? null,
      stepId,
    );
  }

  /** Appends a log line. */
  log(runId: number, level: string, message: string, stepId: number | null = null, source: string | null = null) {
    this.#stmt("INSERT INTO logs(run_id,step_id,ts,level,source,message) VALUES (?,?,?,?,?,?)").run(
      runId,
      stepId,
      Date.now(),
      level,
      source,
      message,
    );
  }

  /** Appends a metric sample. */
  metric(
    runId: number,
    name: string,
    value: number,
    unit: string | null = null,
    tags: Record<string, string> = {},
    stepId: number | null = null,
  ): void {
    this.#stmt("INSERT INTO metrics(run_id,step_id,ts,name,value,unit,tags_json) VALUES (?,?,?,?,?,?,?)").run(
      runId,
      stepId,
      Date.now(),
      name,
      value,
      unit,
      JSON.stringify(tags),
    );
  }

  /** Stores an artifact's bytes; returns its id. */
  async artifact(
    runId: number,
    name: string,
    data: Uint8Array,
    mediaType: string | null = null,
    stepId: number | null = null,
  ): Promise<number> {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
    const sha = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    const res = this.#stmt(
      "INSERT INTO artifacts(run_id,step_id,name,size,sha256,media_type,data) VALUES (?,?,?,?,?,?,?)",
    ).run(runId, stepId, name, data.byteLength, sha, mediaType, data);
    return Number(res.lastInsertRowid);
  }

  /** Records a planned (dry-run) or audited side effect. */
  plan(runId: number, kind: string, target: string, action: string, stepId: number | null = null): void {
    this.#stmt("INSERT INTO plan(run_id,step_id,kind,target,action) VALUES (?,?,?,?,?)").run(
      runId,
      stepId,
      kind,
      target,
      action,
    );
  }

  /** One run, or undefined. */
  getRun(id: number): RunRow | undefined {
    const r = this.#stmt("SELECT * FROM runs WHERE id=?").get(id) as Row | undefined;
    return r ? toRun(r) : undefined;
  }

  /** Runs, newest first. */
  listRuns(opts: { limit?: number; playbook?: string; status?: RunStatus } = {}): RunRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.playbook) (where.push("playbook=?"), args.push(opts.playbook));
    if (opts.status) (where.push("status=?"), args.push(opts.status));
    const sql = `SELECT * FROM runs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...args, opts.limit ?? 50) as Row[]).map(toRun);
  }

  /** Steps of a run in order. */
  steps(runId: number): StepRow[] {
    return this.#stmt("SELECT * FROM steps WHERE run_id=? ORDER BY seq, id").all(runId) as unknown as StepRow[];
  }

  /** Log lines of a run in order. */
  logs(runId: number): LogRow[] {
    return this.#stmt("SELECT id,step_id,ts,level,source,message FROM logs WHERE run_id=? ORDER BY id").all(
      runId,
    ) as unknown as LogRow[];
  }

  /** Metric samples of a run in order. */
  metrics(runId: number): MetricRow[] {
    return (this.#stmt("SELECT id,step_id,ts,name,value,unit,tags_json FROM metrics WHERE run_id=? ORDER BY id")
      .all(runId) as Row[]).map((r) => ({
        id: r.id as number,
        step_id: r.step_id as number | null,
        ts: r.ts as number,
        name: r.name as string,
        value: r.value as number,
        unit: r.unit as string | null,
        tags: JSON.parse(r.tags_json as string),
      }));
  }

  /** Artifact descriptions of a run (without bytes). */
  artifacts(runId: number): ArtifactRow[] {
    return this.#stmt("SELECT id,step_id,name,size,sha256,media_type FROM artifacts WHERE run_id=? ORDER BY id")
      .all(runId) as unknown as ArtifactRow[];
  }

  /** The bytes of one artifact. */
  artifactData(artifactId: number): Uint8Array | undefined {
    const r = this.#stmt("SELECT data FROM artifacts WHERE id=?").get(artifactId) as Row | undefined;
    return r ? new Uint8Array(r.data as Uint8Array) : undefined;
  }

  /** Plan entries of a run in order. */
  planEntries(runId: number): PlanRow[] {
    return this.#stmt("SELECT id,step_id,kind,target,action FROM plan WHERE run_id=? ORDER BY id").all(
      runId,
    ) as unknown as PlanRow[];
  }

  /** Runs `fn` in one transaction (for bulk writes). */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN");
    try {
      const v = fn();
      this.#db.exec("COMMIT");
      return v;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Closes the database; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stmts.clear();
    this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function toRun(r: Row): RunRow {
  return {
    id: r.id as number,
    uuid: r.uuid as string,
    playbook: r.playbook as string,
    playbook_path: r.playbook_path as string | null,
    params: JSON.parse(r.params_json as string),
    git_commit: r.git_commit as string | null,
    playbook_commit: r.playbook_commit as string | null,
    host: JSON.parse(r.host_json as string),
    inventory: r.inventory_json ? JSON.parse(r.inventory_json as string) : null,
    status: r.status as RunStatus,
    dry_run: r.dry_run === 1,
    started_at: r.started_at as number,
    ended_at: r.ended_at as number | null,
    error: r.error as string | null,
    result: r.result_json ? JSON.parse(r.result_json as string) : null,
    pid: r.pid as number | null,
    hostname: r.hostname as string | null,
    parent_run: r.parent_run as number | null,
  };
}

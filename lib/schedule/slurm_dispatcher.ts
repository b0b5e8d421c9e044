/**
 * Slurm executor: each occurrence of a job with `--executor slurm` becomes a Slurm batch job that runs
 * run_job_main.ts against the same results store (so the run is recorded where every other run is). The dispatcher
 * records the Slurm job id on the occurrence, follows the job to completion, and reads the outcome from the run record.
 * When the scheduler stops, Slurm jobs go on; the next scheduler follows them by their recorded id.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatError } from "../core/errors.ts";
import { ResultsStore } from "../results/store.ts";
import type { Dispatcher, DispatchHandle, DispatchRequest, DispatchResult } from "./dispatcher.ts";
import { JobStore } from "./job_store.ts";
import { sbatch, scancel, type SlurmJobState, waitForSlurmJob } from "./slurm.ts";
import { runJobArgs } from "./subprocess_dispatcher.ts";

/** Options of the Slurm executor. */
export interface SlurmOptions {
  /** Partition to submit to (default: the cluster's default). */
  partition?: string;
  /** How often to poll the job's state (default 1000 ms). */
  pollMs?: number;
  /** Where batch scripts and job output go (default `<store dir>/slurm`). */
  workDir?: string;
}

/** Quotes one word for /bin/sh. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Dispatches occurrences as Slurm batch jobs. */
export class SlurmDispatcher implements Dispatcher {
  readonly name = "slurm";
  readonly storePath: string;
  readonly options: SlurmOptions;
  readonly workDir: string;

  /** `storePath`: the results store the Slurm jobs record their runs into (must be reachable from the nodes). */
  constructor(storePath: string, options: SlurmOptions = {}) {
    this.storePath = storePath;
    this.options = options;
    this.workDir = options.workDir ?? join(dirname(storePath), "slurm");
  }

  /** Writes the batch script of one occurrence; returns its path. */
  writeScript(req: DispatchRequest): string {
    mkdirSync(this.workDir, { recursive: true });
    const occ = req.occurrence.id;
    const path = join(this.workDir, `occurrence-${occ}-attempt-${req.attempt}.sh`);
    const minutes = req.timeoutMs ? Math.max(1, Math.ceil(req.timeoutMs / 60_000)) : null;
    const lines = [
      "#!/bin/sh",
      `#SBATCH --job-name=${shQuote(`hyperlab-${req.job.name}`.replace(/[^A-Za-z0-9._-]/g, "_"))}`,
      `#SBATCH --output=${shQuote(join(this.workDir, `occurrence-${occ}-%j.out`))}`,
      `#SBATCH --chdir=${shQuote(Deno.cwd())}`,
      ...(minutes ? [`#SBATCH --time=${minutes}`] : []),
      ...(this.options.partition ? [`#SBATCH --partition=${shQuote(this.options.partition)}`] : []),
      `exec ${[Deno.execPath(), ...runJobArgs(this.storePath, occ, req.parentRun, true)].map(shQuote).join(" ")}`,
      "",
    ];
    writeFileSync(path, lines.join("\n"), { mode: 0o755 });
    return path;
  }

  /** Submits the occurrence as a batch job and follows it. */
  start(req: DispatchRequest): DispatchHandle {
    const script = this.writeScript(req);
    const submitted = sbatch(script).then((id) => {
      req.onStarted?.({ slurmJobId: id, pid: null });
      return id;
    });
    return { pid: null, done: submitted.then((id) => this.#follow(req, id)) };
  }

  /** Follows the Slurm job recorded on the occurrence by a scheduler that has since stopped. */
  resume(req: DispatchRequest): DispatchHandle | null {
    const id = req.occurrence.slurmJobId;
    return id ? { pid: null, slurmJobId: id, done: this.#follow(req, id) } : null;
  }

  async #follow(req: DispatchRequest, slurmJobId: string): Promise<DispatchResult> {
    let timedOut = false;
    const timer = req.timeoutMs === null ? undefined : setTimeout(() => {
      timedOut = true;
      scancel(slurmJobId);
    }, req.timeoutMs);
    let st: SlurmJobState | null;
    try {
      st = await waitForSlurmJob(slurmJobId, { pollMs: this.options.pollMs, signal: req.signal });
    } finally {
      clearTimeout(timer);
    }
    if (st === null) return { status: "interrupted", runId: null, error: null, timedOut: false, detached: true };
    return this.#outcome(req, slurmJobId, st, timedOut);
  }

  /** Reads the outcome from the run record (written by the Slurm job itself), else from Slurm's state. */
  #outcome(req: DispatchRequest, slurmJobId: string, st: SlurmJobState, timedOut: boolean): DispatchResult {
    using results = ResultsStore.open(this.storePath, { recoverStale: false });
    const occ = new JobStore(results).getOccurrence(req.occurrence.id);
    const run = occ.runId === null ? undefined : results.getRun(occ.runId);
    let tail = "";
    try {
      const out = readFileSync(join(this.workDir, `occurrence-${req.occurrence.id}-${slurmJobId}.out`), "utf8");
      tail = out.trim().split("\n").slice(-5).join("\n");
    } catch (e) {
      tail = `(no job output: ${formatError(e)})`;
    }
    const slurmNote = `Slurm job ${slurmJobId} ended ${st.state}${st.exitCode ? ` (exit ${st.exitCode})` : ""}`;
    if (timedOut || st.state === "TIMEOUT") {
      if (run?.status === "running") results.markInterrupted(run.id, `${slurmNote}: timed out`);
      return { status: "failed", runId: run?.id ?? null, error: `timed out; ${slurmNote}`, timedOut: true };
    }
    if (run && run.status !== "running") {
      return {
        status: run.status === "ok" ? "ok" : run.status === "failed" ? "failed" : "interrupted",
        runId: run.id,
        error: run.error,
        timedOut: false,
      };
    }
    if (run) results.markInterrupted(run.id, `${slurmNote} before the run finished`);
    return { status: "failed", runId: run?.id ?? null, error: `${slurmNote}; ${tail}`, timedOut: false };
  }
}

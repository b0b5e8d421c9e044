/**
 * Parameter sweeps on Slurm: every sweep point becomes one task of a Slurm job array (`sbatch --array=0-N`); each
 * task runs the playbook with its point's parameters and records the run in the same results store, tagged with the
 * array job id and task index. `followSweep` waits for the array and returns the runs by point.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { parseParams } from "../core/runner.ts";
import { resolvePlaybook } from "../cli/resolve.ts";
import type { ResultsStore } from "../results/store.ts";
import type { RunStatus } from "../results/types.ts";
import { sbatch, waitForSlurmJob } from "./slurm.ts";
import { shQuote } from "./slurm_dispatcher.ts";

/** Entry each array task runs. */
export const SWEEP_TASK_MAIN: string = fileURLToPath(new URL("./sweep_task_main.ts", import.meta.url));

/** A sweep to submit. */
export interface SweepSpec {
  /** Results store the runs are recorded in. */
  storePath: string;
  /** Playbook name or path. */
  playbook: string;
  /** One parameter set per sweep point (validated against the playbook before anything is submitted). */
  points: Record<string, unknown>[];
  /** Slurm partition. */
  partition?: string;
  /** Per-task time limit, seconds. */
  timeoutS?: number;
  /** Most tasks running at once (`%N` of --array). */
  parallel?: number;
  /** Where the script, points file and task output go (default `<store dir>/slurm`). */
  workDir?: string;
}

/** A submitted sweep. */
export interface SweepSubmission {
  arrayJobId: string;
  points: Record<string, unknown>[];
  playbookPath: string;
  workDir: string;
}

/** What became of one sweep point. */
export interface SweepPointResult {
  index: number;
  params: Record<string, unknown>;
  /** Slurm id of the task: `<array job id>_<index>`. */
  slurmTask: string;
  runId: number | null;
  status: RunStatus | "missing";
}

/** Validates every point and submits the array; throws InputError naming `points[i].<field>` on a bad point. */
export async function submitSweep(spec: SweepSpec): Promise<SweepSubmission> {
  if (!Array.isArray(spec.points) || spec.points.length === 0) {
    throw new InputError("points", "at least one sweep point (parameter set)", spec.points);
  }
  const { playbook, path } = await resolvePlaybook(spec.playbook);
  spec.points.forEach((p, i) => {
    try {
      parseParams(playbook, p);
    } catch (e) {
      if (e instanceof InputError) {
        throw new InputError(`points[${i}].${e.field}`, e.expected, undefined, { where: `sweep of ${playbook.name}` });
      }
      throw e;
    }
  });
  const workDir = spec.workDir ?? join(dirname(spec.storePath), "slurm");
  mkdirSync(workDir, { recursive: true });
  const stamp = `${Date.now()}-${crypto.randomUUID().slice(0, 8)}`;
  const pointsFile = join(workDir, `sweep-${stamp}.json`);
  writeFileSync(pointsFile, JSON.stringify(spec.points));
  const script = join(workDir, `sweep-${stamp}.sh`);
  const minutes = spec.timeoutS ? Math.max(1, Math.ceil(spec.timeoutS / 60)) : null;
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--config",
    join(PROJECT_ROOT, "deno.json"),
    SWEEP_TASK_MAIN,
    "--store",
    spec.storePath,
    "--playbook",
    path,
    "--points",
    pointsFile,
  ];
  writeFileSync(
    script,
    [
      "#!/bin/sh",
      `#SBATCH --job-name=${shQuote(`hyperlab-sweep-${playbook.name}`.replace(/[^A-Za-z0-9._-]/g, "_"))}`,
      `#SBATCH --output=${shQuote(join(workDir, `sweep-${stamp}-%A_%a.out`))}`,
      `#SBATCH --array=0-${spec.points.length - 1}${spec.parallel ? `%${spec.parallel}` : ""}`,
      `#SBATCH --chdir=${shQuote(Deno.cwd())}`,
      ...(minutes ? [`#SBATCH --time=${minutes}`] : []),
      ...(spec.partition ? [`#SBATCH --partition=${shQuote(spec.partition)}`] : []),
      `exec ${argv.map(shQuote).join(" ")}`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const arrayJobId = await sbatch(script);
  return { arrayJobId, points: spec.points, playbookPath: path, workDir };
}

/** Waits until every task of the array ended, then returns each point's run (from the store). */
export async function followSweep(
  results: ResultsStore,
  sub: SweepSubmission,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<SweepPointResult[]> {
  await waitForSlurmJob(sub.arrayJobId, options);
  const rows = results.db.prepare(
    `SELECT id, status, json_extract(host_json, '$.slurm.arrayTask') AS task FROM runs
     WHERE json_extract(host_json, '$.slurm.arrayJobId') = ? ORDER BY id`,
  ).all(sub.arrayJobId) as { id: number; status: RunStatus; task: number }[];
  return sub.points.map((params, index) => {
    const run = rows.filter((r) => Number(r.task) === index).pop();
    return {
      index,
      params,
      slurmTask: `${sub.arrayJobId}_${index}`,
      runId: run?.id ?? null,
      status: run?.status ?? "missing",
    };
  });
}

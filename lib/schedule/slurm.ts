/**
 * Thin wrappers over the Slurm command-line tools: submit a batch script (`sbatch --parsable`), read a job's state
 * (`scontrol show job -o`), cancel (`scancel`). Each failure names the command and its stderr.
 * @module
 */
import { HyperlabError, MissingError } from "../core/errors.ts";

/** A Slurm job's state as scontrol reports it (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, …). */
export interface SlurmJobState {
  jobId: string;
  state: string;
  exitCode: string | null;
  /** True once the job will not change any more. */
  final: boolean;
}

const ACTIVE = new Set(["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"]);

async function slurmCmd(cmd: string, args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new MissingError(`${cmd} not installed`, "apt-get install slurm-wlm");
    throw e;
  }
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new HyperlabError("slurm", `${cmd} ${args.join(" ")}: exit ${out.code}${err ? `: ${err}` : ""}`);
  }
  return stdout;
}

/** Submits a batch script; returns the Slurm job id. */
export async function sbatch(scriptPath: string, extraArgs: string[] = []): Promise<string> {
  const out = (await slurmCmd("sbatch", ["--parsable", ...extraArgs, scriptPath])).trim();
  const id = out.split(";")[0];
  if (!/^\d+$/.test(id)) throw new HyperlabError("slurm", `sbatch printed no job id: ${JSON.stringify(out)}`);
  return id;
}

/**
 * State of a job (for an array, of one task: `<id>_<task>`). A job Slurm no longer knows (purged after MinJobAge)
 * is reported final with state `UNKNOWN`.
 */
export async function slurmJobState(jobId: string): Promise<SlurmJobState> {
  let out: string;
  try {
    out = await slurmCmd("scontrol", ["show", "job", "-o", jobId]);
  } catch (e) {
    if (e instanceof HyperlabError && /Invalid job id/i.test(e.message)) {
      return { jobId, state: "UNKNOWN", exitCode: null, final: true };
    }
    throw e;
  }
  const lines = out.trim().split("\n").filter(Boolean);
  const states = lines.map((l) => /JobState=(\S+)/.exec(l)?.[1] ?? "UNKNOWN");
  const exitCode = /ExitCode=(\S+)/.exec(lines[0] ?? "")?.[1] ?? null;
  const active = states.some((s) => ACTIVE.has(s));
  const state = active ? states.find((s) => ACTIVE.has(s))! : states.find((s) => s !== "COMPLETED") ?? states[0];
  return { jobId, state: state ?? "UNKNOWN", exitCode, final: !active };
}

/** Cancels a job (ignores jobs that already ended). */
export async function scancel(jobId: string): Promise<void> {
  try {
    await slurmCmd("scancel", [jobId]);
  } catch { /* already gone */ }
}

/** Polls until the job is final; resolves with its last state. Stops early (returning null) when `signal` aborts. */
export async function waitForSlurmJob(
  jobId: string,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<SlurmJobState | null> {
  const poll = options.pollMs ?? 1000;
  while (!options.signal?.aborted) {
    const st = await slurmJobState(jobId);
    if (st.final) return st;
    await new Promise<void>((r) => {
      const t = setTimeout(r, poll);
      options.signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
    });
  }
  return null;
}

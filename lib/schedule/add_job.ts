/**
 * `schedule add`: validates everything a job needs before it is stored — cron and time zone, the playbook (it must
 * resolve), the parameters against the playbook's zod schema (missing ones fail here, never at 3 a.m.), the
 * inventory, and the numeric limits — then records it with its first due time.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { parseParams } from "../core/runner.ts";
import { resolvePlaybook } from "../cli/resolve.ts";
import { loadInventory } from "../inventory/mod.ts";
import { parseCron } from "./cron.ts";
import type { JobStore } from "./job_store.ts";
import type { CatchUp, Executor, Job } from "./types.ts";

/** Everything `schedule add` accepts. */
export interface AddJobInput {
  /** Playbook name or path. */
  playbook: string;
  /** Cron expression (5 fields, or 6 with seconds first). */
  cron: string;
  /** IANA time zone of the cron expression (default `UTC`, always stored explicitly). */
  tz?: string;
  /** Unique job name (default: the playbook name, suffixed when taken). */
  name?: string;
  /** Playbook parameters (already typed, e.g. from the playbook's flags). */
  params?: Record<string, unknown>;
  /** Inventory spec (file or `lab`): recorded, passed to the playbook, and its nodes are locked when none are given. */
  inventory?: string;
  /** Catch-up policy for due times missed while no scheduler ran (default `skip`). */
  catchUp?: string;
  /** Per-run timeout, seconds. */
  timeoutS?: number;
  /** Retries after a failed attempt (default 0). */
  retries?: number;
  /** First retry delay in seconds; doubles each retry (default 30). */
  backoffS?: number;
  /** How long an occurrence waits for busy nodes before it is recorded skipped, seconds (default 600). */
  lockWaitS?: number;
  /** Nodes the job uses (locked while it runs), in addition to the playbook's `nodes(params)`. */
  nodes?: string[];
  /** Shell command run on failure and recovery (summary JSON on stdin). */
  notifyCmd?: string;
  /** File the failure/recovery summary is appended to (JSON lines). */
  notifyFile?: string;
  /** `local` (default) or `slurm`. */
  executor?: string;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9._/-]{0,79}$/;

function nonNegative(field: string, v: number | undefined, what: string, int = false): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (int && !Number.isInteger(v))) {
    throw new InputError(field, what, v);
  }
  return v;
}

/** Validates `input` and stores the job. Throws InputError naming the flag for any bad input. */
export async function addJob(jobs: JobStore, input: AddJobInput, now: number = Date.now()): Promise<Job> {
  const tz = input.tz ?? "UTC";
  const cron = parseCron(input.cron, tz);
  const catchUp = (input.catchUp ?? "skip") as CatchUp;
  if (catchUp !== "skip" && catchUp !== "once") throw new InputError("--catch-up", "skip or once", input.catchUp);
  const executor = (input.executor ?? "local") as Executor;
  if (executor !== "local" && executor !== "slurm") throw new InputError("--executor", "local or slurm", executor);
  const timeoutS = nonNegative("--timeout", input.timeoutS, "a positive number of seconds");
  if (timeoutS === 0) throw new InputError("--timeout", "a positive number of seconds", 0);
  const retries = nonNegative("--retries", input.retries, "a whole number >= 0", true) ?? 0;
  const backoffS = nonNegative("--backoff", input.backoffS, "a number of seconds >= 0") ?? 30;
  const lockWaitS = nonNegative("--lock-wait", input.lockWaitS, "a number of seconds >= 0") ?? 600;
  for (const n of input.nodes ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n)) throw new InputError("--nodes", "comma-separated node names", n);
  }

  const { playbook, path } = await resolvePlaybook(input.playbook);
  const params = { ...(input.params ?? {}) };
  const shape = (playbook.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  if (input.inventory && "inventory" in shape && params.inventory === undefined) params.inventory = input.inventory;
  const parsed = parseParams<Record<string, unknown>>(playbook, params);

  const nodes = new Set(input.nodes ?? []);
  for (const n of playbook.nodes?.(parsed as never) ?? []) nodes.add(n);
  if (input.inventory) {
    const inv = await loadInventory(input.inventory);
    if (nodes.size === 0) { for (const n of inv.nodes) nodes.add(n.name); }
  }

  let name = input.name;
  if (name !== undefined && !NAME_RE.test(name)) {
    throw new InputError("--name", "a letter, then letters, digits and . _ / - (up to 80 characters)", name);
  }
  if (name === undefined) {
    name = playbook.name;
    for (let i = 2; jobs.findJob(name); i++) name = `${playbook.name}-${i}`;
  }

  return jobs.insertJob({
    name,
    playbook: input.playbook,
    playbookPath: path,
    params,
    inventory: input.inventory ?? null,
    cron: cron.expr,
    tz,
    catchUp,
    timeoutS: timeoutS ?? null,
    retries,
    backoffS,
    lockWaitS,
    nodes: [...nodes].sort(),
    notifyCmd: input.notifyCmd ?? null,
    notifyFile: input.notifyFile ?? null,
    executor,
    nextDueAt: cron.nextAfter(now),
  }, now);
}

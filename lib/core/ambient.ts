/**
 * The ambient run: lib functions called inside a playbook find the run they belong to (for dry-run, logging and
 * plan recording) without the context being passed through every call.
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RunContext } from "./context.ts";

const storage = new AsyncLocalStorage<RunContext<unknown>>();

/** The run whose code is executing now, if any. */
export function currentRun(): RunContext<unknown> | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the ambient run. */
export function withRun<T>(ctx: RunContext<unknown>, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** One side effect as a plan shows it. */
export interface PlanEntry {
  /** What kind of effect: `ssh`, `ioctl`, `xenstore`, `qemu`, `file`, `xl`… */
  kind: string;
  /** Where: node name, device or path. */
  target: string;
  /** The exact action: command line, key and value, ioctl name… */
  action: string;
}

/**
 * Performs a side effect, or under `--dry-run` records what it would do and returns `dryValue()`.
 * Outside a run it always performs the effect.
 */
export async function effect<T>(entry: PlanEntry, fn: () => Promise<T> | T, dryValue: () => T): Promise<T> {
  const run = currentRun();
  if (run?.dryRun) {
    run.plan(entry);
    return dryValue();
  }
  return await fn();
}

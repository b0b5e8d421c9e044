/**
 * Repetitions of a measurement inside a playbook: `repeat(ctx, "latency", 10, { warmup: 2 }, fn)` runs `fn` 12 times,
 * records every value as a metric sample tagged `rep=<i>` (warm-ups also `warmup=true`, so statistics and
 * `results compare` leave them out), and returns the measured values. The record keeps every repetition.
 * @module
 */
import type { RunContext } from "../core/context.ts";
import { InputError } from "../core/errors.ts";

/** Options of `repeat`. */
export interface RepeatOptions {
  /** Runs before the measured ones whose values are tagged `warmup=true` (default 0). */
  warmup?: number;
  /** Unit of the metric. */
  unit?: string;
  /** Extra tags for every sample (e.g. the sweep point). */
  tags?: Record<string, string>;
}

/** What `fn` learns about the repetition it performs. */
export interface Repetition {
  /** 0-based index over all repetitions, warm-ups first. */
  index: number;
  /** True for a warm-up repetition. */
  warmup: boolean;
}

/**
 * Runs `fn` `warmup + n` times in order and records each returned number as metric `name`. Returns the `n` measured
 * values (warm-ups excluded). A non-number result fails with a TypeError naming the repetition.
 */
export async function repeat(
  ctx: Pick<RunContext<unknown>, "metric" | "throwIfCancelled">,
  name: string,
  n: number,
  options: RepeatOptions,
  fn: (rep: Repetition) => number | Promise<number>,
): Promise<number[]> {
  const warmup = options.warmup ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`repeat ${name}: n`, "a whole number >= 1", n);
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new InputError(`repeat ${name}: warmup`, "a whole number >= 0", warmup);
  }
  const measured: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    ctx.throwIfCancelled();
    const isWarmup = i < warmup;
    const value = await fn({ index: i, warmup: isWarmup });
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new TypeError(`repeat ${name}: repetition ${i} returned ${String(value)}, expected a finite number`);
    }
    const tags: Record<string, string> = { ...options.tags, rep: String(i) };
    if (isWarmup) tags.warmup = "true";
    ctx.metric(name, value, options.unit, tags);
    if (!isWarmup) measured.push(value);
  }
  return measured;
}

/** `waitFor`: poll a predicate until it returns a truthy value, with a timeout. */
import { setTimeout as sleep } from "node:timers/promises";
import { CancelledError, formatError, InputError, TimeoutError } from "../core/errors.ts";
import { currentRun } from "../core/ambient.ts";

/** Options of waitFor. */
export interface WaitForOptions {
  /** Give up after this many ms (required: nothing waits forever). */
  timeout: number;
  /** Pause between attempts, ms (default 200). */
  interval?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
  /** Stops waiting (defaults to the current run's signal). */
  signal?: AbortSignal;
}

/**
 * Calls `predicate` until it returns a truthy value (returned) or the timeout passes (TimeoutError naming `what`
 * and the last error the predicate threw, if any). Errors thrown by the predicate count as "not yet".
 */
export async function waitFor<T>(predicate: () => Promise<T> | T, opts: WaitForOptions): Promise<NonNullable<T>> {
  if (!(opts?.timeout > 0)) throw new InputError("timeout", "a positive number of milliseconds", opts?.timeout);
  const interval = opts.interval ?? 200;
  if (!(interval >= 0)) throw new InputError("interval", "a non-negative number of milliseconds", opts.interval);
  const signal = opts.signal ?? currentRun()?.signal;
  const deadline = performance.now() + opts.timeout;
  let last: unknown;
  while (true) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError();
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (e) {
      last = e;
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new TimeoutError(
        `waiting for ${opts.what ?? "condition"}`,
        opts.timeout,
        last ? `last error: ${formatError(last)}` : undefined,
      );
    }
    await sleep(Math.min(interval, left), undefined, { signal }).catch(() => {});
  }
}

/**
 * Cron expressions (via npm:croner) with an explicit time zone: validation with clear errors and due-time arithmetic.
 * @module
 */
import { Cron } from "croner";
import { InputError } from "../core/errors.ts";

/** A parsed cron expression in a time zone. */
export interface CronSchedule {
  /** The expression as given (5 fields, or 6 with seconds first). */
  expr: string;
  /** IANA time zone, e.g. `UTC` or `Europe/Paris`. */
  tz: string;
  /** First due time strictly after `afterMs` (epoch ms), or null when the expression never fires again. */
  nextAfter(afterMs: number): number | null;
}

/** Checks that `tz` is an IANA time zone; throws InputError on `--tz` otherwise. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz;
  } catch {
    throw new InputError("--tz", "an IANA time zone such as UTC or Europe/Paris", tz);
  }
}

/** Parses `expr` in zone `tz`. Throws InputError naming `--cron` (or `--tz`) and what is expected. */
export function parseCron(expr: string, tz: string): CronSchedule {
  checkTimeZone(tz);
  if (typeof expr !== "string" || expr.trim() === "") {
    throw new InputError("--cron", 'a cron expression like "0 3 * * *" (5 fields, or 6 with seconds first)', expr);
  }
  let cron: Cron;
  try {
    cron = new Cron(expr.trim(), { timezone: tz, paused: true });
  } catch (e) {
    const why = (e as Error).message.replace(/^CronPattern: /, "");
    throw new InputError(
      "--cron",
      'a cron expression like "0 3 * * *" (minute hour day-of-month month day-of-week; 6 fields with seconds first)',
      expr,
      { hint: why },
    );
  }
  if (cron.nextRun(new Date()) === null) {
    throw new InputError("--cron", "an expression that fires at least once in the future", expr);
  }
  return {
    expr: expr.trim(),
    tz,
    nextAfter(afterMs: number): number | null {
      return cron.nextRun(new Date(afterMs))?.getTime() ?? null;
    },
  };
}

/** Due times in `[fromMs, toMs]` (inclusive), at most `limit`, plus whether more were cut off. */
export function dueTimes(
  s: CronSchedule,
  fromMs: number,
  toMs: number,
  limit = 10_000,
): { times: number[]; more: boolean } {
  const times: number[] = [];
  let t = s.nextAfter(fromMs - 1);
  while (t !== null && t <= toMs) {
    if (times.length >= limit) return { times, more: true };
    times.push(t);
    t = s.nextAfter(t);
  }
  return { times, more: false };
}

/**
 * The time reports Nephele guests started with `--send-time` send by UDP to their gateway's port 32764:
 * `"<sec>.<usec>"` or `"<sec>.<usec>;parent;<i>"` / `"<sec>.<usec>;child;<i>"`. A guest resends until acked.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** Port the guests send to. */
export const TIME_REPORT_PORT = 32764;

/** One parsed report. */
export interface TimeReport {
  /** Guest's clock, microseconds since the epoch (exact: sec * 1e6 + usec). */
  timeUs: number;
  sec: number;
  usec: number;
  role?: "parent" | "child";
  index?: number;
}

/** Parses one datagram's text. Throws InputError naming the expected format. */
export function parseTimeReport(text: string): TimeReport {
  const t = text.replace(/\0+$/, "").trim();
  const m = /^(\d+)\.(\d{1,6})(?:;(parent|child);(\d+))?$/.exec(t);
  if (!m) throw new InputError("time report", `"<sec>.<usec>[;parent|child;<i>]"`, t);
  const sec = Number(m[1]);
  const usec = Number(m[2]);
  return {
    sec,
    usec,
    timeUs: sec * 1_000_000 + usec,
    role: m[3] as TimeReport["role"],
    index: m[4] === undefined ? undefined : Number(m[4]),
  };
}

/**
 * ApacheBench (`ab`) output → metrics: Time taken, Requests per second, Time per request (mean and across all
 * concurrent requests), Transfer rate, complete and failed requests.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** The figures FragVisor's experiments extract from `ab`. */
export interface AbResult {
  timeTakenS: number;
  completeRequests: number;
  failedRequests: number;
  requestsPerSecond: number;
  /** Mean time per request, ms. */
  timePerRequestMs: number;
  /** Mean time per request across all concurrent requests, ms. */
  timePerRequestAllMs: number;
  /** Kbytes/sec received. */
  transferRateKBps: number;
  /** Document length in bytes, when printed. */
  documentLength?: number;
}

function num(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (!m) throw new InputError("ab output", `a line "${what}"`, text.split("\n").slice(-3).join(" | "));
  return Number(m[1]);
}

/** Parses ab's report. Throws InputError naming the first line that is missing. */
export function parseAb(text: string): AbResult {
  const doc = /^Document Length:\s+(\d+) bytes/m.exec(text);
  return {
    timeTakenS: num(text, /^Time taken for tests:\s+([\d.]+) seconds/m, "Time taken for tests"),
    completeRequests: num(text, /^Complete requests:\s+(\d+)/m, "Complete requests"),
    failedRequests: num(text, /^Failed requests:\s+(\d+)/m, "Failed requests"),
    requestsPerSecond: num(text, /^Requests per second:\s+([\d.]+)/m, "Requests per second"),
    timePerRequestMs: num(text, /^Time per request:\s+([\d.]+) \[ms\] \(mean\)/m, "Time per request (mean)"),
    timePerRequestAllMs: num(
      text,
      /^Time per request:\s+([\d.]+) \[ms\] \(mean, across all concurrent requests\)/m,
      "Time per request (mean, across all concurrent requests)",
    ),
    transferRateKBps: num(text, /^Transfer rate:\s+([\d.]+) \[Kbytes\/sec\] received/m, "Transfer rate"),
    documentLength: doc ? Number(doc[1]) : undefined,
  };
}

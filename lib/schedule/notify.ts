/**
 * Notification hook: on a failed occurrence, on the first success after failures ("recovery"), and when a successful
 * run's metrics changed beyond noise since the job's previous successful run ("change"), run the job's command
 * (summary as JSON on stdin and in HYPERLAB_* variables) and/or append the summary as one JSON line to a file.
 * @module
 */
import { appendFile } from "node:fs/promises";
import { formatError } from "../core/errors.ts";
import type { Job, Occurrence } from "./types.ts";

/**
 * Why a notification is sent: a failed occurrence, the first success after failures, or a successful run whose
 * metrics changed beyond noise against the job's previous successful run.
 */
export type NotifyEvent = "failure" | "recovery" | "change";

/** A metric that changed beyond noise (95% intervals do not overlap). */
export interface MetricChange {
  metric: string;
  unit: string | null;
  previousRun: number;
  previousMean: number;
  mean: number;
  deltaPct: number | null;
}

/** What a notification says. */
export interface NotifySummary {
  event: NotifyEvent;
  job: string;
  jobId: number;
  playbook: string;
  occurrence: number;
  scheduledAt: string;
  status: string;
  runId: number | null;
  attempts: number;
  reason: string | null;
  at: string;
  /** For `change`: the metrics that changed. */
  changes?: MetricChange[];
}

/** Builds the summary of one occurrence. */
export function notifySummary(event: NotifyEvent, job: Job, occ: Occurrence, now: number): NotifySummary {
  return {
    event,
    job: job.name,
    jobId: job.id,
    playbook: job.playbook,
    occurrence: occ.id,
    scheduledAt: new Date(occ.scheduledAt).toISOString(),
    status: occ.status,
    runId: occ.runId,
    attempts: occ.attempts,
    reason: occ.reason,
    at: new Date(now).toISOString(),
  };
}

/**
 * Delivers `summary` through the job's hooks. Never throws: problems are returned as messages (the scheduler logs
 * them), because a broken hook must not stop scheduling.
 */
export async function deliverNotification(job: Job, summary: NotifySummary, timeoutMs = 30_000): Promise<string[]> {
  const problems: string[] = [];
  const line = JSON.stringify(summary);
  if (job.notifyFile) {
    try {
      await appendFile(job.notifyFile, line + "\n");
    } catch (e) {
      problems.push(`notify-file ${job.notifyFile}: ${formatError(e)}`);
    }
  }
  if (job.notifyCmd) {
    try {
      const child = new Deno.Command("sh", {
        args: ["-c", job.notifyCmd],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
        env: {
          HYPERLAB_EVENT: summary.event,
          HYPERLAB_JOB: summary.job,
          HYPERLAB_STATUS: summary.status,
          HYPERLAB_RUN: summary.runId === null ? "" : String(summary.runId),
          HYPERLAB_OCCURRENCE: String(summary.occurrence),
          HYPERLAB_REASON: summary.reason ?? "",
        },
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(line + "\n")).catch(() => {});
      await w.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, timeoutMs);
      const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
      clearTimeout(timer);
      if (!status.success) {
        const err = stderr.trim().split("\n").slice(-3).join(" | ");
        problems.push(`notify-cmd exited with ${status.code}${err ? `: ${err}` : ""}`);
      }
    } catch (e) {
      problems.push(`notify-cmd: ${formatError(e)}`);
    }
  }
  return problems;
}

/** Events a run emits while it goes; reporters (TTY, plain lines, JSON) render them. */
import type { RunStatus, StepStatus } from "../results/types.ts";
import type { PlanEntry } from "./ambient.ts";

/** Everything a reporter can be told. */
export type RunEvent =
  | { type: "run-start"; runId: number; playbook: string; params: Record<string, unknown>; dryRun: boolean }
  | { type: "step-start"; stepId: number; name: string; depth: number }
  | { type: "step-end"; stepId: number; name: string; depth: number; status: StepStatus; ms: number; error?: string }
  | { type: "log"; level: LogLevel; message: string; source?: string }
  | { type: "metric"; name: string; value: number; unit?: string; tags?: Record<string, string> }
  | { type: "artifact"; name: string; size: number }
  | { type: "plan"; entry: PlanEntry }
  | { type: "run-end"; runId: number; status: RunStatus; ms: number; error?: string };

/** Log severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Receives run events. */
export interface Reporter {
  event(e: RunEvent): void;
}

/** A reporter that ignores everything (library use, tests). */
export const silentReporter: Reporter = { event() {} };

/**
 * The context a playbook's `run` receives: typed params, steps, logger, metrics, artifacts, deferred cleanup,
 * cancellation and dry-run.
 * @module
 */
import type { PlanEntry } from "./ambient.ts";
import type { LogLevel } from "./events.ts";

/** Logger of a run; lines go to the console reporter and the run record. */
export interface Logger {
  debug(message: string, source?: string): void;
  info(message: string, source?: string): void;
  warn(message: string, source?: string): void;
  error(message: string, source?: string): void;
  /** Logs at an explicit level. */
  log(level: LogLevel, message: string, source?: string): void;
}

/** Options of one step. */
export interface StepOptions {
  /** Fails the step with a TimeoutError after this many milliseconds (the step's signal aborts too). */
  timeoutMs?: number;
}

/** What a step's function receives. */
export interface StepHandle {
  /** Aborts on Ctrl-C, run cancellation or the step's timeout. */
  signal: AbortSignal;
  /** The step's record id. */
  id: number;
}

/** Data accepted as an artifact: bytes, text, or a file to copy into the store. */
export type ArtifactData = Uint8Array | string | { path: string };

/** The context of one run. `P` is the parsed parameter type. */
export interface RunContext<P> {
  /** Parsed, typed parameters. */
  readonly params: P;
  /** The run's id in the results store. */
  readonly runId: number;
  /** True under `--dry-run`: side-effecting lib calls record what they would do instead. */
  readonly dryRun: boolean;
  /** Aborts on Ctrl-C / SIGTERM / cancellation. */
  readonly signal: AbortSignal;
  /** Logger whose lines go into the run record. */
  readonly log: Logger;
  /** Runs `fn` as a recorded step (start, end, outcome, error). Steps nest. */
  step<T>(name: string, fn: (step: StepHandle) => Promise<T> | T, options?: StepOptions): Promise<T>;
  /** Records a metric sample. */
  metric(name: string, value: number, unit?: string, tags?: Record<string, string>): void;
  /** Stores an artifact (bytes, text, or a file's contents). */
  artifact(name: string, data: ArtifactData, mediaType?: string): Promise<void>;
  /** Registers cleanup that runs (last registered first) on success, failure and Ctrl-C. */
  defer(fn: () => Promise<void> | void): void;
  /** Records a planned side effect (what `--dry-run` prints). */
  plan(entry: PlanEntry): void;
  /** Registers a secret: it is masked in every log, error and record of this run. */
  secret(value: string): void;
  /** Stores facts about one node in the run record. */
  facts(node: string, facts: unknown): void;
  /** Throws CancelledError when the run was cancelled. */
  throwIfCancelled(): void;
}

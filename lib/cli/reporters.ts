/**
 * Console reporters: a live step display on a TTY, plain timestamped lines otherwise (scheduled jobs, pipes).
 * @module
 */
import { styleText } from "node:util";
import type { Reporter, RunEvent } from "../core/events.ts";

type Write = (s: string) => void;

const enc = new TextEncoder();
/** Writes to stderr synchronously. */
export const writeStderr: Write = (s) => void Deno.stderr.writeSync(enc.encode(s));
/** Writes to stdout synchronously. */
export const writeStdout: Write = (s) => void Deno.stdout.writeSync(enc.encode(s));

let human: Write = writeStdout;
/** Writes output meant for people (summary tables): stdout, or stderr once `--json` owns stdout. */
export const writeHuman: Write = (s) => human(s);
/**
 * Under `--json` stdout carries exactly one JSON document: tables and `console.log` of playbooks go to stderr.
 */
export function reserveStdoutForJson(): void {
  human = writeStderr;
  console.log = console.error;
  console.info = console.error;
}

function ms(n: number): string {
  return n < 1000
    ? `${n.toFixed(n < 10 ? 1 : 0)} ms`
    : n < 60_000
    ? `${(n / 1000).toFixed(2)} s`
    : `${(n / 60000).toFixed(1)} min`;
}

function color(c: Parameters<typeof styleText>[0], s: string, on: boolean): string {
  return on ? styleText(c, s) : s;
}

/** Formats one event as a plain line (or null for events that plain output skips). */
export function plainLine(e: RunEvent, colors = false, showDebug = false): string | null {
  const indent = (d: number) => "  ".repeat(d);
  switch (e.type) {
    case "run-start":
      return `run ${e.runId}: ${e.playbook}${e.dryRun ? " (dry run)" : ""}`;
    case "step-start":
      return `${indent(e.depth)}▶ ${e.name}`;
    case "step-end": {
      const mark = e.status === "ok" ? color("green", "✓", colors) : color("red", "✗", colors);
      const err = e.error ? `: ${e.error.split("\n")[0]}` : "";
      return `${indent(e.depth)}${mark} ${e.name} (${ms(e.ms)})${e.status === "ok" ? "" : ` ${e.status}${err}`}`;
    }
    case "log": {
      if (e.level === "debug" && !showDebug) return null;
      const src = e.source ? `[${e.source}] ` : "";
      const lvl = e.level === "info" ? "" : `${e.level}: `;
      const text = `  ${src}${lvl}${e.message}`;
      return e.level === "error"
        ? color("red", text, colors)
        : e.level === "warn"
        ? color("yellow", text, colors)
        : text;
    }
    case "metric":
      return `  ◆ ${e.name} = ${e.value}${e.unit ? " " + e.unit : ""}${
        e.tags && Object.keys(e.tags).length ? " " + JSON.stringify(e.tags) : ""
      }`;
    case "artifact":
      return `  ⧉ artifact ${e.name} (${e.size} B)`;
    case "plan":
      return `  would ${e.entry.kind} @ ${e.entry.target}: ${e.entry.action}`;
    case "run-end": {
      const st = e.status === "ok" ? color("green", "ok", colors) : color("red", e.status, colors);
      return `run ${e.runId} ${st} in ${ms(e.ms)}${e.error ? `: ${e.error}` : ""}`;
    }
  }
}

/** Plain, line-per-event output with timestamps (for pipes, logs and scheduled jobs). */
export class PlainReporter implements Reporter {
  constructor(private write: Write = writeStderr, private showDebug = false) {}
  event(e: RunEvent): void {
    const line = plainLine(e, false, this.showDebug);
    if (line !== null) this.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
  }
}

const SPIN = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Live display on a TTY: finished lines scroll, a status line shows running steps with a spinner and timer. */
export class TtyReporter implements Reporter, Disposable {
  #running = new Map<number, { name: string; depth: number; t0: number }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #statusShown = false;

  constructor(private write: Write = writeStderr, private showDebug = false) {}

  #clearStatus() {
    if (this.#statusShown) this.write("\r\x1b[2K");
    this.#statusShown = false;
  }

  #drawStatus() {
    if (this.#running.size === 0) return;
    const cols = (() => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 100;
      }
    })();
    const now = performance.now();
    const parts = [...this.#running.values()].map((r) => `${r.name} ${ms(now - r.t0)}`);
    const text = `${SPIN[this.#frame++ % SPIN.length]} ${parts.join(" › ")}`;
    this.write(`\r\x1b[2K${styleText("cyan", text.slice(0, cols - 1))}`);
    this.#statusShown = true;
  }

  event(e: RunEvent): void {
    if (e.type === "step-start") {
      this.#running.set(e.stepId, { name: e.name, depth: e.depth, t0: performance.now() });
      this.#timer ??= setInterval(() => this.#drawStatus(), 100);
      Deno.unrefTimer(this.#timer as unknown as number);
    }
    if (e.type === "step-end") this.#running.delete(e.stepId);
    if (e.type === "step-start") {
      this.#drawStatus();
      return;
    }
    const line = plainLine(e, true, this.showDebug);
    this.#clearStatus();
    if (line !== null) this.write(line + "\n");
    if (e.type === "run-end") this[Symbol.dispose]();
    else this.#drawStatus();
  }

  [Symbol.dispose](): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clearStatus();
  }
}

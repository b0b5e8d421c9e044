/**
 * Boot markers on lkvm's console (the origin's lkvm stdout): `pophype: lkvm init [time] = <ms> ms [[[<s> s]]]`
 * when vCPU 0 starts, `Initstrap done (dont run bash here) !` (printed in green), `| auto_setup….sh ALL DONE |`
 * when the ramdisk's set-up script finished, and `Boot took <uptime> seconds` from the init.
 * @module
 */

/** Marker names in the order they appear. */
export const CONSOLE_MARKERS = ["lkvmInit", "initstrap", "allDone"] as const;
/** One of the console markers. */
export type ConsoleMarker = typeof CONSOLE_MARKERS[number];

/** What a console has shown so far. */
export interface ConsoleState {
  /** `lkvm init [time]` in ms, when seen. */
  lkvmInitMs?: number;
  initstrap: boolean;
  allDone: boolean;
  /** The guest's `Boot took <s> seconds`, when seen. */
  bootSeconds?: number;
  /** Milliseconds since watching started at which each marker was first seen. */
  seenAtMs: Partial<Record<ConsoleMarker, number>>;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Removes ANSI colour sequences and carriage returns. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI, "").replaceAll("\r", "");
}

/** Feeds console lines; keeps the state and the full text. */
export class ConsoleWatcher {
  readonly state: ConsoleState = { initstrap: false, allDone: false, seenAtMs: {} };
  readonly #t0: number;
  #partial = "";
  #lines: string[] = [];
  /** Milliseconds (performance.now) when the last byte arrived. */
  lastOutputAt: number;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
    this.#t0 = now();
    this.lastOutputAt = this.#t0;
  }

  /** Clock used for seenAtMs (injectable for tests). */
  readonly now: () => number;

  /** Adds a chunk of console output. */
  push(chunk: string): void {
    if (chunk.length === 0) return;
    this.lastOutputAt = this.now();
    const text = this.#partial + chunk;
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    for (const p of parts) this.#line(p);
    // A marker can sit in an unterminated line while the console stalls: look at it too.
    if (this.#partial) this.#scan(stripAnsi(this.#partial));
  }

  /** Every complete line so far (ANSI stripped), plus the unterminated tail. */
  text(): string {
    return [...this.#lines, stripAnsi(this.#partial)].join("\n");
  }

  /** True when every marker in `wanted` was seen. */
  has(wanted: readonly ConsoleMarker[]): boolean {
    return wanted.every((m) => this.state.seenAtMs[m] !== undefined);
  }

  /** Markers of `wanted` not yet seen. */
  missing(wanted: readonly ConsoleMarker[] = CONSOLE_MARKERS): ConsoleMarker[] {
    return wanted.filter((m) => this.state.seenAtMs[m] === undefined);
  }

  #line(raw: string): void {
    const line = stripAnsi(raw);
    this.#lines.push(line);
    this.#scan(line);
  }

  #mark(m: ConsoleMarker): void {
    this.state.seenAtMs[m] ??= this.now() - this.#t0;
  }

  #scan(line: string): void {
    const init = /lkvm init \[time\] = (\d+(?:\.\d+)?) ms/.exec(line);
    if (init) {
      this.state.lkvmInitMs ??= Number(init[1]);
      this.#mark("lkvmInit");
    }
    if (/Initstrap done/.test(line)) {
      this.state.initstrap = true;
      this.#mark("initstrap");
    }
    if (/ALL DONE/.test(line)) {
      this.state.allDone = true;
      this.#mark("allDone");
    }
    const boot = /Boot took (\d+(?:\.\d+)?) seconds/.exec(line);
    if (boot) this.state.bootSeconds ??= Number(boot[1]);
  }
}

/**
 * The project's error types. Every failure a user can see is one of these, so the CLI can print one clear line
 * (what, where, what was expected) and choose an exit code.
 * @module
 */

/** Base class of every error hyperlab raises on purpose. `code` is stable and machine-readable. */
export class HyperlabError extends Error {
  /** Stable machine-readable code, e.g. `input`, `errno`, `timeout`. */
  readonly code: string;
  /** Optional hint for the user: how to fix it. */
  readonly hint?: string;
  constructor(code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}

/** Bad user input: names the field and what was expected. */
export class InputError extends HyperlabError {
  /** Path of the bad field, e.g. `--nodes` or `nodes[2].port`. */
  readonly field: string;
  /** What was expected there. */
  readonly expected: string;
  constructor(field: string, expected: string, got?: unknown, options?: { hint?: string; where?: string }) {
    const where = options?.where ? `${options.where}: ` : "";
    const gotText = got === undefined ? "" : ` (got ${describeValue(got)})`;
    super("input", `${where}${field}: expected ${expected}${gotText}`, { hint: options?.hint });
    this.field = field;
    this.expected = expected;
  }
}

/** An operation did not finish in time. */
export class TimeoutError extends HyperlabError {
  constructor(what: string, ms: number, detail?: string) {
    super("timeout", `${what}: timed out after ${ms} ms${detail ? `\n${detail}` : ""}`);
  }
}

/** The run was cancelled (Ctrl-C, SIGTERM or an abort signal). */
export class CancelledError extends HyperlabError {
  constructor(reason = "cancelled") {
    super("cancelled", reason);
  }
}

/** Something the experiment needs is absent on this machine (a device, a package, a hypercall). */
export class MissingError extends HyperlabError {
  constructor(what: string, hint?: string) {
    super("missing", what, { hint });
  }
}

/** Short printable form of a value for error messages. */
export function describeValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 57) + "..." : v);
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 60 ? s.slice(0, 57) + "..." : s;
  } catch {
    return String(v);
  }
}

/** Formats any thrown value as one user-facing message (with hint when present). */
export function formatError(e: unknown): string {
  if (e instanceof HyperlabError) return e.hint ? `${e.message}\n  hint: ${e.hint}` : e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/**
 * Wire format between controller and node agent: one JSON object per line over the SSH exec channel.
 * Requests `{id, op, args}`; responses `{id, ok: true, value}` or `{id, ok: false, error}`; the agent greets with
 * `{hello: "hyperlab-agent", version, pid}`. Errors keep their type across the wire. No npm imports (agent side).
 * @module
 */
import { CancelledError, HyperlabError, InputError, MissingError, TimeoutError } from "../core/errors.ts";

/** Protocol version; controller and agent must agree. */
export const AGENT_PROTOCOL_VERSION = 1;

/** An error as sent over the wire. */
export interface WireError {
  name: string;
  code?: string;
  message: string;
  hint?: string;
  field?: string;
  expected?: string;
}

/** Serialises an error, keeping the fields that let the other side rebuild its type. */
export function encodeError(e: unknown): WireError {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; hint?: string; field?: string; expected?: string };
    return {
      name: e.name,
      code: typeof x.code === "string" ? x.code : undefined,
      message: e.message,
      hint: x.hint,
      field: x.field,
      expected: x.expected,
    };
  }
  return { name: "Error", message: String(e) };
}

/** Rebuilds a typed error (MissingError, InputError, TimeoutError…) from the wire, prefixed with where it ran. */
export function decodeError(w: WireError, where: string): Error {
  const msg = `${where}: ${w.message}`;
  let e: Error;
  switch (w.name) {
    case "MissingError":
      e = new MissingError(msg, w.hint);
      break;
    case "InputError":
      e = new InputError(w.field ?? "(agent)", w.expected ?? "valid input", undefined, { hint: w.hint });
      break;
    case "TimeoutError":
      e = new TimeoutError(where, 0);
      break;
    case "CancelledError":
      e = new CancelledError(msg);
      break;
    default:
      e = w.code ? new HyperlabError(w.code, msg, { hint: w.hint }) : new Error(msg);
      if (!w.code) e.name = w.name;
  }
  e.message = msg;
  return e;
}

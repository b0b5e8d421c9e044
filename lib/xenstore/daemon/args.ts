/** Argument decoding of xenstore requests: NUL-terminated strings and numbers, EINVAL when malformed. */
import { splitStrings, type XsMessage } from "../wire.ts";
import { XsError } from "./errors.ts";

/** The NUL-terminated string arguments of a request; at least `min`, and the payload must end in NUL. */
export function args(m: XsMessage, min: number): string[] {
  if (m.payload.length === 0 || m.payload[m.payload.length - 1] !== 0) {
    throw new XsError("EINVAL", "arguments must be NUL-terminated");
  }
  const parts = splitStrings(m.payload);
  if (parts.length < min) throw new XsError("EINVAL", `expected ${min} arguments`);
  return parts;
}

/** A decimal unsigned number argument. */
export function uint(s: string, what: string): number {
  if (!/^\d{1,10}$/.test(s)) throw new XsError("EINVAL", `${what} must be a number`);
  return Number(s);
}

/** A domain id argument (0..32751). */
export function domid(s: string): number {
  const n = uint(s, "domid");
  if (n > 0x7fef) throw new XsError("EINVAL", "domid out of range");
  return n;
}

/**
 * Watches: (path, token) pairs registered by a connection. A change at path P fires every watch on P or an
 * ancestor of P; a removal also fires watches below P. `@introduceDomain` / `@releaseDomain` fire on those events.
 * @module
 */
import { isUnder } from "./paths.ts";
import type { Change } from "./transaction.ts";

/** One registered watch. */
export interface Watch {
  /** Absolute path or special `@…` name. */
  abs: string;
  /** The path as registered (relative ones are reported relative). */
  given: string;
  relative: boolean;
  token: string;
}

/** The watch event path for `change` seen by `watch`, or undefined when it does not fire. */
export function matchWatch(watch: Watch, change: Change): string | undefined {
  if (watch.abs.startsWith("@")) return watch.abs === change.path ? watch.abs : undefined;
  if (change.path.startsWith("@")) return undefined;
  if (isUnder(change.path, watch.abs)) return change.path;
  if (change.recursive && isUnder(watch.abs, change.path)) return watch.abs;
  return undefined;
}

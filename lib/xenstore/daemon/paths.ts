/**
 * Xenstore path rules as Xen's C xenstored applies them: absolute paths start with `/`, no trailing or double
 * slash, characters `[A-Za-z0-9-/_@]`; relative paths are resolved against the connection's domain home
 * `/local/domain/<id>`; `@`-paths are watch-only special names.
 * @module
 */
import { ABS_PATH_MAX } from "../wire.ts";
import { XsError } from "./errors.ts";

const VALID = /^[A-Za-z0-9\-/_@]*$/;
const SPECIAL = new Set(["@introduceDomain", "@releaseDomain"]);

/** Home path of a domain. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** A resolved path and whether the client gave it relative to its domain home. */
export interface ResolvedPath {
  abs: string;
  relative: boolean;
}

/**
 * Resolves a client-supplied path for `domid`, checking validity and `maxRelLen` (the length after
 * `/local/domain/<n>/`, like xenstored's path-length quota). Throws XsError EINVAL.
 */
export function resolvePath(raw: string, domid: number, maxRelLen: number, allowSpecial = false): ResolvedPath {
  if (raw.startsWith("@")) {
    if (!allowSpecial || !SPECIAL.has(raw)) throw new XsError("EINVAL", `special path ${raw} not allowed here`);
    return { abs: raw, relative: false };
  }
  const relative = !raw.startsWith("/");
  if (relative && raw === "") throw new XsError("EINVAL", "empty path");
  const abs = relative ? `${domainPath(domid)}/${raw}` : raw;
  if (abs.length > ABS_PATH_MAX) throw new XsError("EINVAL", "path too long");
  if (abs !== "/" && abs.endsWith("/")) throw new XsError("EINVAL", "trailing slash");
  if (abs.includes("//")) throw new XsError("EINVAL", "double slash");
  if (!VALID.test(abs)) throw new XsError("EINVAL", "invalid character in path");
  const m = /^\/local\/domain\/\d{1,5}\//.exec(abs);
  if (abs.length - (m ? m[0].length : 0) > maxRelLen) throw new XsError("EINVAL", "path longer than the quota");
  return { abs, relative };
}

/** Parent of an absolute path (`/a/b` → `/a`, `/a` → `/`). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Last component of an absolute path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** True when `path` is `ancestor` or lies below it. */
export function isUnder(path: string, ancestor: string): boolean {
  if (ancestor === "/") return path.startsWith("/");
  return path === ancestor || path.startsWith(ancestor + "/");
}

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** The path as the client should see it: relative to its home when it asked relatively. */
export function presentPath(abs: string, domid: number, relative: boolean): string {
  if (!relative) return abs;
  const home = domainPath(domid) + "/";
  return abs.startsWith(home) ? abs.slice(home.length) : abs;
}

/**
 * Node permissions: a list whose first entry names the owner and the access everyone else gets; later entries
 * grant one domain `n` (none), `r` (read), `w` (write) or `b` (both). Wire form: `b0`, `r5`, …
 * Access rule (xenstored's perm_for_conn): dom0 and the owner get everything; else the first entry naming the
 * domain; else the first entry's access.
 * @module
 */
import { XsError } from "./errors.ts";

/** Access letters. */
export type Access = "n" | "r" | "w" | "b";

/** One permission entry. */
export interface Perm {
  id: number;
  access: Access;
}

/** Parses one wire permission string like `r5`. Throws XsError EINVAL. */
export function parsePerm(s: string): Perm {
  const m = /^([nrwb])(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new XsError("EINVAL", `bad permission ${JSON.stringify(s)}`);
  return { access: m[1] as Access, id: Number(m[2]) };
}

/** Formats a permission entry for the wire. */
export function formatPerm(p: Perm): string {
  return `${p.access}${p.id}`;
}

/** What `domid` may do on a node with `perms`. */
export function accessFor(perms: readonly Perm[], domid: number): { read: boolean; write: boolean; owner: boolean } {
  if (domid === 0 || perms[0]?.id === domid) return { read: true, write: true, owner: true };
  const entry = perms.slice(1).find((p) => p.id === domid) ?? perms[0];
  const a = entry?.access ?? "n";
  return { read: a === "r" || a === "b", write: a === "w" || a === "b", owner: false };
}

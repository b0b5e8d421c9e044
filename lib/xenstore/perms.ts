/** Xenstore permission strings (`b0`, `r5`, …) as users write them, e.g. for `xenstore-chmod`. */
import { InputError } from "../core/errors.ts";
import type { XsAccess, XsPerm } from "./types.ts";

/** Parses `b0` / `r5` / `b` (no domid means dom0, like xenstore-chmod). Throws InputError naming `field`. */
export function parsePerm(s: string, field = "perm"): XsPerm {
  const m = /^([nrwb])(\d{0,5})$/.exec(s);
  const id = m ? Number(m[2] || "0") : NaN;
  if (!m || id > 65535) {
    throw new InputError(field, "a permission like b0, r5, w3 or n0 (letter n|r|w|b then a domid)", s);
  }
  return { access: m[1] as XsAccess, id };
}

/** Formats a permission for the wire: `{access:"b", id:0}` → `b0`. */
export function formatPerm(p: XsPerm): string {
  return `${p.access}${p.id}`;
}

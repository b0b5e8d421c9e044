/** Memory and queue-pair access rights (ibv_access_flags) by name. */
import { InputError } from "../core/errors.ts";

/** Access flag values of libibverbs. */
export const ACCESS = {
  "local-write": 1,
  "remote-write": 2,
  "remote-read": 4,
  "remote-atomic": 8,
} as const;

/** One access right. */
export type Access = keyof typeof ACCESS;

/** The ibv_access_flags bitmask of `rights`; InputError for an unknown name. */
export function accessMask(rights: readonly Access[], field = "access"): number {
  let mask = 0;
  for (const r of rights) {
    const bit = ACCESS[r];
    if (bit === undefined) throw new InputError(field, `one of ${Object.keys(ACCESS).join(", ")}`, r);
    mask |= bit;
  }
  return mask;
}

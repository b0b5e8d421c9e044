/**
 * Clone children in `xl list`: xencloned names each child `<parent-name>-child-<domid>`; the playbook waits until
 * their count reaches the number of clones asked for (the seed's `xl list | grep "<name>-child" | wc -l`).
 * @module
 */
import type { XlListRow } from "../xen/mod.ts";

/** Name xencloned gives a child. */
export function childName(parent: string, domid: number): string {
  return `${parent}-child-${domid}`;
}

/** Rows of `xl list` that are children of `parent` (exact pattern, not a substring grep). */
export function childrenOf(parent: string, rows: readonly XlListRow[]): XlListRow[] {
  const re = new RegExp(`^${parent.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-child-(\\d+)$`);
  return rows.filter((r) => {
    const m = re.exec(r.name);
    return m !== null && Number(m[1]) === r.id;
  });
}

/** Guest console log paths written by xenconsoled for the parent and each child. */
export function consoleLogPaths(parent: string, childIds: readonly number[], dir = "/var/log/xen/guest"): string[] {
  return [`${dir}/guest-${parent}.log`, ...childIds.map((id) => `${dir}/guest-${childName(parent, id)}.log`)];
}

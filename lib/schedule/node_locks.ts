/**
 * Node locks: an occurrence that uses nodes holds a row per node while it runs, so jobs that overlap on nodes never
 * run at the same time. All of an occurrence's nodes are taken in one transaction, or none.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { immediate } from "./schema.ts";

/** A node held by an occurrence. */
export interface NodeHold {
  node: string;
  occurrenceId: number;
  jobId: number;
  acquiredAt: number;
}

/** Takes every node in `nodes` for the occurrence, or none. Returns the holds that blocked it (empty on success). */
export function lockNodes(
  db: DatabaseSync,
  nodes: string[],
  occurrenceId: number,
  jobId: number,
  now: number,
): NodeHold[] {
  if (nodes.length === 0) return [];
  return immediate(db, () => tryLockNodes(db, nodes, occurrenceId, jobId, now));
}

/** Like `lockNodes`, for callers already inside a write transaction. */
export function tryLockNodes(
  db: DatabaseSync,
  nodes: string[],
  occurrenceId: number,
  jobId: number,
  now: number,
): NodeHold[] {
  if (nodes.length === 0) return [];
  {
    const marks = nodes.map(() => "?").join(",");
    const held = (db.prepare(`SELECT * FROM schedule_locks WHERE node IN (${marks}) AND occurrence_id<>?`).all(
      ...nodes,
      occurrenceId,
    ) as Record<string, unknown>[]).map((r) => ({
      node: r.node as string,
      occurrenceId: r.occurrence_id as number,
      jobId: r.job_id as number,
      acquiredAt: r.acquired_at as number,
    }));
    if (held.length) return held;
    const ins = db.prepare(
      "INSERT OR REPLACE INTO schedule_locks(node, occurrence_id, job_id, acquired_at) VALUES (?,?,?,?)",
    );
    for (const n of nodes) ins.run(n, occurrenceId, jobId, now);
    return [];
  }
}

/** Releases every node the occurrence holds. */
export function unlockNodes(db: DatabaseSync, occurrenceId: number): void {
  db.prepare("DELETE FROM schedule_locks WHERE occurrence_id=?").run(occurrenceId);
}

/** Releases locks whose occurrence is no longer running (left by a crashed scheduler). Returns how many. */
export function releaseOrphanLocks(db: DatabaseSync): number {
  return Number(
    db.prepare(
      `DELETE FROM schedule_locks WHERE occurrence_id NOT IN
         (SELECT id FROM schedule_occurrences WHERE status='running')`,
    ).run().changes,
  );
}

/** All current holds. */
export function nodeHolds(db: DatabaseSync): NodeHold[] {
  return (db.prepare("SELECT * FROM schedule_locks ORDER BY node").all() as Record<string, unknown>[]).map((r) => ({
    node: r.node as string,
    occurrenceId: r.occurrence_id as number,
    jobId: r.job_id as number,
    acquiredAt: r.acquired_at as number,
  }));
}

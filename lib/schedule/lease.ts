/**
 * The scheduler lease: one row in the store names the scheduler allowed to dispatch. A scheduler renews it every tick;
 * another may take it over only when it expired or its holder's process is gone (same host). So two schedulers on one
 * store never both dispatch.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { pidAlive } from "./pid.ts";
import { immediate } from "./schema.ts";

/** Who holds the lease now. */
export interface LeaseHolder {
  holder: string;
  pid: number;
  hostname: string;
  acquiredAt: number;
  expiresAt: number;
}

/** A scheduler's handle on the lease. */
export class Lease {
  readonly db: DatabaseSync;
  /** This scheduler's id. */
  readonly id: string;
  readonly ttlMs: number;
  readonly name: string;

  /** A handle on the lease named `options.name` (default `scheduler`) in `db`. */
  constructor(db: DatabaseSync, options: { id?: string; ttlMs?: number; name?: string } = {}) {
    this.db = db;
    this.id = options.id ?? crypto.randomUUID();
    this.ttlMs = options.ttlMs ?? 5_000;
    this.name = options.name ?? "scheduler";
  }

  /** The current holder, or undefined. */
  holder(): LeaseHolder | undefined {
    const r = this.db.prepare("SELECT * FROM schedule_lease WHERE name=?").get(this.name) as
      | Record<string, unknown>
      | undefined;
    return r
      ? {
        holder: r.holder as string,
        pid: r.pid as number,
        hostname: r.hostname as string,
        acquiredAt: r.acquired_at as number,
        expiresAt: r.expires_at as number,
      }
      : undefined;
  }

  /** Takes or renews the lease at time `now`; true when this scheduler holds it afterwards. */
  acquire(now: number): boolean {
    return immediate(this.db, () => {
      const cur = this.holder();
      const mine = cur?.holder === this.id;
      const free = !cur || cur.expiresAt <= now ||
        (cur.hostname === Deno.hostname() && cur.pid !== Deno.pid && !pidAlive(cur.pid));
      if (!mine && !free) return false;
      this.db.prepare(
        `INSERT INTO schedule_lease(name, holder, pid, hostname, acquired_at, expires_at) VALUES (?,?,?,?,?,?)
         ON CONFLICT(name) DO UPDATE SET holder=excluded.holder, pid=excluded.pid, hostname=excluded.hostname,
           acquired_at=CASE WHEN schedule_lease.holder=excluded.holder THEN schedule_lease.acquired_at
                            ELSE excluded.acquired_at END,
           expires_at=excluded.expires_at`,
      ).run(this.name, this.id, Deno.pid, Deno.hostname(), now, now + this.ttlMs);
      return true;
    });
  }

  /** Gives the lease up (on clean shutdown) so a standby can take over at once. */
  release(): void {
    this.db.prepare("DELETE FROM schedule_lease WHERE name=? AND holder=?").run(this.name, this.id);
  }
}

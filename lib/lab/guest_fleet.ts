/**
 * Several guests at once (what `lab up --guests N` needs): names `<prefix>1…<prefix>N`, started with bounded
 * concurrency (TCG guests are CPU-heavy), each exposed as an inventory node spec. If one fails, the ones already
 * started are stopped and the error names the guest.
 * @module
 */
import pLimit from "p-limit";
import { HyperlabError, InputError } from "../core/errors.ts";
import type { Guest } from "./guest.ts";
import { startGuest, type StartGuestOptions } from "./guest_start.ts";
import { type GuestNodeSpec, guestNodeSpec } from "./guest_node_adapter.ts";

/** Options of startGuests. */
export interface FleetOptions {
  /** How many guests. */
  count: number;
  /** Name prefix (default `guest`): guests are `<prefix>1`, `<prefix>2`… */
  prefix?: string;
  /** Options every guest gets (`name` is set per guest). */
  guest?: Omit<StartGuestOptions, "name">;
  /** Guests booting at the same time (default 2). */
  concurrency?: number;
}

/** Started guests and their inventory node specs (same order). */
export interface Fleet {
  guests: Guest[];
  nodes: GuestNodeSpec[];
}

/** Starts `count` guests; on any failure stops the started ones and rethrows naming the guest. */
export async function startGuests(options: FleetOptions): Promise<Fleet> {
  const { count, prefix = "guest", concurrency = 2 } = options ?? {};
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new InputError("count", "a whole number 1..64", count);
  if (!/^[a-z][a-z0-9-]{0,20}$/.test(prefix)) {
    throw new InputError("prefix", "lowercase letters, digits, - (≤ 21)", prefix);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InputError("concurrency", "a whole number ≥ 1", concurrency);
  }
  const limit = pLimit(concurrency);
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  const started: Guest[] = [];
  const results = await Promise.allSettled(names.map((name) =>
    limit(async () => {
      const g = await startGuest({ ...options.guest, name });
      started.push(g);
      return g;
    })
  ));
  const failed = results.findIndex((r) => r.status === "rejected");
  if (failed >= 0) {
    await Promise.all(started.map((g) => g.stop()));
    const reason = (results[failed] as PromiseRejectedResult).reason;
    throw new HyperlabError("guest-fleet", `guest ${names[failed]} failed to start: ${reason?.message ?? reason}`, {
      cause: reason,
    });
  }
  const guests = results.map((r) => (r as PromiseFulfilledResult<Guest>).value);
  const nodes = guests.flatMap((g, i) =>
    g.dir !== null && g.options.network.enabled ? [guestNodeSpec(g.endpoint, i)] : []
  );
  return { guests, nodes };
}

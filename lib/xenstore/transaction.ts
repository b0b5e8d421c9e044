/** Running a function inside a xenstore transaction, retrying when the commit conflicts (EAGAIN). */
import { ErrnoError } from "../ffi/errno.ts";
import type { XenstoreClient } from "./types.ts";

/** Options of `withTransaction`. */
export interface TransactionOptions {
  /** Attempts before giving up (default 16). */
  attempts?: number;
}

/**
 * Runs `fn(tx)` in a transaction and commits it; on EAGAIN (a concurrent change to a node it touched) runs it
 * again in a fresh transaction. `fn` must only act through the client with `{ tx }`. Aborts the transaction when
 * `fn` throws.
 */
export async function withTransaction<T>(
  client: XenstoreClient,
  fn: (tx: number) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 16;
  let last: unknown = undefined;
  for (let i = 1; i <= attempts; i++) {
    const tx = await client.transactionStart();
    let value: T;
    try {
      value = await fn(tx);
    } catch (e) {
      await client.transactionEnd(tx, false).catch(() => {});
      throw e;
    }
    try {
      await client.transactionEnd(tx, true);
      return value;
    } catch (e) {
      if (!(e instanceof ErrnoError && e.errnoName === "EAGAIN")) throw e;
      last = e;
    }
  }
  throw new ErrnoError(
    `xenstore transaction on ${client.target}`,
    11,
    `still conflicting after ${attempts} attempts (${(last as Error).message})`,
  );
}

/** A queue of watch events with timed waits, shared by both clients. */
import type { WatchEvent } from "./types.ts";

/** Buffered watch events; `next` waits up to a timeout. */
export class EventQueue {
  readonly #items: WatchEvent[] = [];
  readonly #waiters: ((e: WatchEvent | undefined) => void)[] = [];
  #closed = false;

  /** Adds an event (wakes one waiter). */
  push(e: WatchEvent): void {
    const w = this.#waiters.shift();
    if (w) w(e);
    else this.#items.push(e);
  }

  /** Ends every wait with undefined; later waits return undefined at once. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** The next event, or undefined after `timeoutMs`, on abort, or after close. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent | undefined> {
    const ready = this.#items.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (e: WatchEvent | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(e);
      };
      const drop = () => {
        const i = this.#waiters.indexOf(done);
        if (i >= 0) this.#waiters.splice(i, 1);
        done(undefined);
      };
      const onAbort = () => drop();
      const timer = setTimeout(drop, Math.max(0, timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(done);
    });
  }
}

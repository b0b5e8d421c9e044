/**
 * The requests one NBD connection has in flight: promise-based ones (tracked by their promise) and callback-based
 * ones (the hot path, a counter and a sequence number each), with what the server waits on: any completion
 * (backpressure), everything in flight now (FLUSH) and everything (end of connection).
 * @module
 */

interface SnapshotWait {
  /** Callback requests started up to this sequence number are waited for. */
  upTo: number;
  /** How many of them are still running. */
  left: number;
  resolve: () => void;
}

/** Requests in flight on one connection. */
export class Inflight {
  #promises = new Set<Promise<unknown>>();
  #running = 0;
  #seq = 0;
  #snapshots: SnapshotWait[] = [];
  #wakers: (() => void)[] = [];

  /** Requests in flight. */
  get size(): number {
    return this.#promises.size + this.#running;
  }

  /** Tracks a promise-based request until `remove`. */
  add(p: Promise<unknown>): void {
    this.#promises.add(p);
  }

  /** Ends tracking of a promise-based request. */
  remove(p: Promise<unknown>): void {
    this.#promises.delete(p);
    this.#wake();
  }

  /** Starts a callback-based request; pass the returned ticket to `end` exactly once. */
  start(): number {
    this.#running++;
    return ++this.#seq;
  }

  /** Ends a callback-based request. */
  end(ticket: number): void {
    this.#running--;
    if (this.#snapshots.length) {
      this.#snapshots = this.#snapshots.filter((s) => {
        if (ticket <= s.upTo && --s.left === 0) {
          s.resolve();
          return false;
        }
        return true;
      });
    }
    this.#wake();
  }

  /** Resolves at the next completion of any request (immediately when none is in flight). */
  next(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    const woken = new Promise<void>((r) => this.#wakers.push(r));
    return this.#promises.size ? Promise.race([woken, ...this.#promises]).then(() => {}, () => {}) : woken;
  }

  /** Resolves once every request in flight now has completed (later ones are not waited for). */
  settled(): Promise<void> {
    const promises = Promise.allSettled([...this.#promises]);
    if (this.#running === 0) return promises.then(() => {});
    const callbacks = new Promise<void>((resolve) => {
      this.#snapshots.push({ upTo: this.#seq, left: this.#running, resolve });
    });
    return Promise.all([promises, callbacks]).then(() => {});
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.size) await this.next();
  }

  #wake(): void {
    if (this.#wakers.length === 0) return;
    const ws = this.#wakers;
    this.#wakers = [];
    for (const w of ws) w();
  }
}

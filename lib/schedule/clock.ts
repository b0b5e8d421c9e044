/**
 * The scheduler's notion of time. Injected so tests can jump the clock forwards and backwards.
 * @module
 */

/** A source of wall-clock time (epoch milliseconds) and a way to wait. */
export interface Clock {
  /** Current time, epoch ms. */
  now(): number;
  /** Resolves after `ms` of this clock's time, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock (Date.now and timers). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * A clock that only moves when told (`set`, `advance`); `sleep` waits on real time for at most a few ms so loops
 * driven by it keep turning. For tests of clock jumps.
 */
export class ManualClock implements Clock {
  #now: number;
  /** Starts at `start` (epoch ms). */
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  /** Sets the time (may go backwards, like an NTP step). */
  set(ms: number): void {
    this.#now = ms;
  }
  /** Moves the time by `ms` (negative moves back). */
  advance(ms: number): void {
    this.#now += ms;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(Math.min(ms, 5), signal);
  }
}

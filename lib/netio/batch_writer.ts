/**
 * Outgoing bytes of one connection, gathered into one buffer and written with as few syscalls as possible: every
 * message queued while a write is in flight goes out in the next single write.
 * @module
 */

/** Anything with a Deno.Conn-like partial `write`. */
export interface Writable {
  write(p: Uint8Array): Promise<number>;
}

/** Batches messages of one connection into few writes. */
export class BatchWriter {
  #conn: Writable;
  #cur: Uint8Array;
  #len = 0;
  #spare: Uint8Array | null = null;
  #flushing = false;
  #failed: Error | null = null;
  #onError: (e: Error) => void;
  #idle: (() => void)[] = [];

  /** `onError` is called once when a write fails; later messages are dropped. */
  constructor(conn: Writable, onError: (e: Error) => void, capacity = 64 * 1024) {
    this.#conn = conn;
    this.#onError = onError;
    this.#cur = new Uint8Array(capacity);
  }

  /** Bytes queued and not yet handed to the kernel. */
  get pending(): number {
    return this.#len;
  }

  /** The write error, once one happened. */
  get failed(): Error | null {
    return this.#failed;
  }

  /**
   * Reserves `n` bytes at the end of the outgoing buffer and returns them to fill. Fill them before the next
   * `reserve` or `push` (the buffer may move).
   */
  reserve(n: number): Uint8Array {
    if (this.#len + n > this.#cur.length) {
      let cap = this.#cur.length * 2;
      while (cap < this.#len + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#cur.subarray(0, this.#len));
      this.#cur = next;
    }
    const out = this.#cur.subarray(this.#len, this.#len + n);
    this.#len += n;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flushLoop());
    }
    return out;
  }

  /** Queues a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes);
  }

  /** Resolves when everything queued so far has been written (or writing failed). */
  drained(): Promise<void> {
    if (!this.#flushing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#len > 0 && !this.#failed) {
        const buf = this.#cur;
        const n = this.#len;
        this.#cur = this.#spare && this.#spare.length >= 4096 ? this.#spare : new Uint8Array(buf.length);
        this.#spare = null;
        this.#len = 0;
        let off = 0;
        while (off < n) off += await this.#conn.write(buf.subarray(off, n));
        this.#spare = buf;
      }
    } catch (e) {
      this.#failed = e instanceof Error ? e : new Error(String(e));
      this.#len = 0;
      this.#onError(this.#failed);
    } finally {
      this.#flushing = false;
      for (const f of this.#idle.splice(0)) f();
    }
  }
}

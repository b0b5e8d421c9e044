/** A growable receive buffer that a socket reads straight into and a parser consumes from the front. */
export class ByteQueue {
  #buf: Uint8Array;
  #start = 0;
  #end = 0;

  /** Creates a queue with `capacity` bytes of initial room. */
  constructor(capacity = 256 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Number of unconsumed bytes. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** The unconsumed bytes. Valid until the next `spare` call. */
  view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Room of at least `min` bytes to read into; pass the count read to `commit`. */
  spare(min = 64 * 1024): Uint8Array {
    if (this.#buf.length - this.#end >= min) return this.#buf.subarray(this.#end);
    const live = this.#end - this.#start;
    if (this.#buf.length - live >= min && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let cap = this.#buf.length * 2;
      while (cap - live < min) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
    return this.#buf.subarray(this.#end);
  }

  /** Marks `n` bytes written into the last `spare` region as received. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Drops `n` bytes from the front. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start >= this.#end) this.#start = this.#end = 0;
  }
}

/**
 * The model's event queues. The reference keeps pending events in `std::priority_queue<SimEvent, vector,
 * greater-by-time>`; events with equal ready times leave in the order libstdc++'s binary heap (`push_heap` /
 * `pop_heap` / `__adjust_heap`) gives, not FIFO. `HeapQueue` reproduces those exact moves so tie order matches.
 * `FifoQueue` is the `inorder` variant (`std::queue`: strictly first in, first out, head must be ready).
 * @module
 */
import { heapPop, heapPush } from "./libstdcxx_heap.ts";

/** A queue of (ready time, event id) pairs. */
export interface ReadyQueue {
  /** Number of pending events. */
  readonly size: number;
  /** Ready time of the head (the only event that may leave next), Infinity when empty. Read-only for callers. */
  head: number;
  /** Adds an event that becomes ready at `time`. */
  push(time: number, id: number): void;
  /** Ready time of the head, Infinity when empty (same as `head`). */
  peekTime(): number;
  /** Removes and returns the head's id when its time is <= now, else -1. */
  popReady(now: number): number;
  /** Removes and returns the head's id (the caller checked `head` is ready). */
  pop(): number;
}

const grow = <T extends Float64Array | Int32Array>(a: T): T => {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
};

/**
 * Binary min-heap by time, with libstdc++'s exact sift order (comparator `a.time > b.time`), on typed arrays with the
 * head's time cached in `head`.
 */
export class HeapQueue implements ReadyQueue {
  #t = new Float64Array(64);
  #v = new Int32Array(64);
  #n = 0;
  head = Infinity;

  get size(): number {
    return this.#n;
  }

  push(time: number, id: number): void {
    if (this.#n === this.#t.length) this.#t = grow(this.#t), this.#v = grow(this.#v);
    heapPush(this.#t, this.#v, this.#n++, time, id);
    this.head = this.#t[0];
  }

  peekTime(): number {
    return this.head;
  }

  popReady(now: number): number {
    return this.head <= now ? this.pop() : -1;
  }

  pop(): number {
    const out = heapPop(this.#t, this.#v, this.#n--);
    this.head = this.#n > 0 ? this.#t[0] : Infinity;
    return out;
  }
}

/** First-in first-out queue (`inorder`): only the oldest event may leave, once its time has come. A ring buffer. */
export class FifoQueue implements ReadyQueue {
  #t = new Float64Array(64);
  #v = new Int32Array(64);
  #first = 0;
  #n = 0;
  head = Infinity;

  get size(): number {
    return this.#n;
  }

  push(time: number, id: number): void {
    if (this.#n === this.#t.length) {
      // Unroll the ring into a twice larger one.
      const cap = this.#t.length, t = new Float64Array(cap * 2), v = new Int32Array(cap * 2);
      for (let i = 0; i < cap; i++) {
        t[i] = this.#t[(this.#first + i) % cap];
        v[i] = this.#v[(this.#first + i) % cap];
      }
      this.#t = t, this.#v = v, this.#first = 0;
    }
    const j = (this.#first + this.#n++) & (this.#t.length - 1);
    this.#t[j] = time;
    this.#v[j] = id;
    if (this.#n === 1) this.head = time;
  }

  peekTime(): number {
    return this.head;
  }

  popReady(now: number): number {
    return this.head <= now ? this.pop() : -1;
  }

  pop(): number {
    const id = this.#v[this.#first];
    this.#first = (this.#first + 1) & (this.#t.length - 1);
    this.#n--;
    this.head = this.#n > 0 ? this.#t[this.#first] : Infinity;
    return id;
  }
}

/**
 * The model's event queues. The reference keeps pending events in `std::priority_queue<SimEvent, vector,
 * greater-by-time>`; events with equal ready times leave in the order libstdc++'s binary heap (`push_heap` /
 * `pop_heap` / `__adjust_heap`) gives, not FIFO. `HeapQueue` reproduces those exact moves so tie order matches.
 * `FifoQueue` is the `inorder` variant (`std::queue`: strictly first in, first out, head must be ready).
 * @module
 */

/** A queue of (ready time, event id) pairs; `peekTime` is Infinity when empty. */
export interface ReadyQueue {
  /** Number of pending events. */
  readonly size: number;
  /** Adds an event that becomes ready at `time`. */
  push(time: number, id: number): void;
  /** Ready time of the head (the only event `popReady` may return), Infinity when empty. */
  peekTime(): number;
  /** Removes and returns the head's id when its time is <= now, else -1. */
  popReady(now: number): number;
}

/** Binary min-heap by time, with libstdc++'s exact sift order (comparator `a.time > b.time`). */
export class HeapQueue implements ReadyQueue {
  #t: number[] = [];
  #v: number[] = [];

  get size(): number {
    return this.#t.length;
  }

  push(time: number, id: number): void {
    const t = this.#t, v = this.#v;
    t.push(time);
    v.push(id);
    this.#pushHeap(t.length - 1, 0, time, id);
  }

  /** libstdc++ `__push_heap`: move the hole up while the parent is "less" (i.e. later) than the value. */
  #pushHeap(hole: number, top: number, time: number, id: number): void {
    const t = this.#t, v = this.#v;
    let parent = (hole - 1) >> 1;
    while (hole > top && t[parent] > time) {
      t[hole] = t[parent];
      v[hole] = v[parent];
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    t[hole] = time;
    v[hole] = id;
  }

  peekTime(): number {
    return this.#t.length ? this.#t[0] : Infinity;
  }

  popReady(now: number): number {
    const t = this.#t, v = this.#v;
    if (t.length === 0 || t[0] > now) return -1;
    const out = v[0];
    const n = t.length;
    if (n > 1) {
      // __pop_heap: value = *(last-1); *(last-1) = *first; __adjust_heap(first, 0, len-1, value)
      const lastT = t[n - 1], lastV = v[n - 1];
      t[n - 1] = t[0];
      v[n - 1] = v[0];
      this.#adjustHeap(0, n - 1, lastT, lastV);
    }
    t.pop();
    v.pop();
    return out;
  }

  /** libstdc++ `__adjust_heap`: sift the hole down to a leaf, then push the value up from there. */
  #adjustHeap(hole: number, len: number, time: number, id: number): void {
    const t = this.#t, v = this.#v;
    const top = hole;
    let child = hole;
    while (child < ((len - 1) >> 1)) {
      child = 2 * (child + 1);
      if (t[child] > t[child - 1]) child--;
      t[hole] = t[child];
      v[hole] = v[child];
      hole = child;
    }
    if ((len & 1) === 0 && child === ((len - 2) >> 1)) {
      child = 2 * (child + 1);
      t[hole] = t[child - 1];
      v[hole] = v[child - 1];
      hole = child - 1;
    }
    this.#pushHeap(hole, top, time, id);
  }
}

/** First-in first-out queue (`inorder`): only the oldest event may leave, once its time has come. */
export class FifoQueue implements ReadyQueue {
  #t: number[] = [];
  #v: number[] = [];
  #head = 0;

  get size(): number {
    return this.#t.length - this.#head;
  }

  push(time: number, id: number): void {
    this.#t.push(time);
    this.#v.push(id);
  }

  peekTime(): number {
    return this.#head < this.#t.length ? this.#t[this.#head] : Infinity;
  }

  popReady(now: number): number {
    if (this.#head >= this.#t.length || this.#t[this.#head] > now) return -1;
    const id = this.#v[this.#head++];
    if (this.#head > 4096 && this.#head * 2 > this.#t.length) {
      this.#t = this.#t.slice(this.#head);
      this.#v = this.#v.slice(this.#head);
      this.#head = 0;
    }
    return id;
  }
}

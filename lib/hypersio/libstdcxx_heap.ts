/**
 * libstdc++'s binary-heap moves (`push_heap`, `pop_heap` with `__adjust_heap`) for a min-heap by time (comparator
 * `a.time > b.time`) kept as two parallel typed arrays, times and ids. Equal times leave in exactly the order the
 * reference's `std::priority_queue` gives them; the model's queues (HeapQueue and the fused event loop) share these.
 * @module
 */

/** `push_heap` of (time, id) onto a heap of `n` entries (room for one more is the caller's job). */
export function heapPush(t: Float64Array, v: Int32Array, n: number, time: number, id: number): void {
  let hole = n;
  while (hole > 0) {
    const parent = (hole - 1) >> 1;
    if (!(t[parent] > time)) break;
    t[hole] = t[parent];
    v[hole] = v[parent];
    hole = parent;
  }
  t[hole] = time;
  v[hole] = id;
}

/** `pop_heap` on a heap of `n` > 0 entries: returns the head's id; the heap then holds `n - 1`. */
export function heapPop(t: Float64Array, v: Int32Array, n: number): number {
  const out = v[0];
  const len = n - 1;
  if (len === 0) return out;
  // value = *(last-1); *(last-1) = *first; then __adjust_heap(first, 0, len, value): sift the hole down to a leaf,
  // then __push_heap the value up from there.
  const time = t[len], id = v[len];
  t[len] = t[0];
  v[len] = out;
  let hole = 0, child = 0;
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
  heapPush(t, v, hole, time, id);
  return out;
}

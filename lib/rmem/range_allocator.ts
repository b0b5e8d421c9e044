/**
 * First-fit allocator of contiguous unit ranges in `[0, total)`, with coalescing on free. The server uses it to
 * carve pool slices; the client uses it to allocate regions inside a granted slice without a server round trip.
 * @module
 */

/** Free-space summary of an allocator. */
export interface RangeStats {
  /** Units in total. */
  total: number;
  /** Units free. */
  free: number;
  /** Largest contiguous free run, in units. */
  largestFree: number;
  /** Number of separate free runs (1 = not fragmented). */
  freeRuns: number;
}

/** First-fit range allocator. */
export class RangeAllocator {
  readonly total: number;
  // sorted, non-overlapping, non-adjacent free runs: starts[i] .. starts[i] + lens[i]
  #starts: number[] = [];
  #lens: number[] = [];
  #free: number;

  constructor(total: number) {
    this.total = total;
    this.#free = total;
    if (total > 0) {
      this.#starts.push(0);
      this.#lens.push(total);
    }
  }

  /** Allocates `units` contiguous units; returns the first unit, or -1 when no free run is large enough. */
  alloc(units: number): number {
    if (units <= 0) return -1;
    for (let i = 0; i < this.#starts.length; i++) {
      if (this.#lens[i] < units) continue;
      const at = this.#starts[i];
      if (this.#lens[i] === units) {
        this.#starts.splice(i, 1);
        this.#lens.splice(i, 1);
      } else {
        this.#starts[i] += units;
        this.#lens[i] -= units;
      }
      this.#free -= units;
      return at;
    }
    return -1;
  }

  /** Returns `[start, start + units)` to the free runs. Throws RangeError when any of it is already free. */
  free(start: number, units: number): void {
    if (units <= 0 || start < 0 || start + units > this.total) {
      throw new RangeError(`free out of range: ${start}+${units}`);
    }
    // index of the first run starting after `start`
    let lo = 0, hi = this.#starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#starts[mid] <= start) lo = mid + 1;
      else hi = mid;
    }
    const prev = lo - 1;
    if (prev >= 0 && this.#starts[prev] + this.#lens[prev] > start) throw new RangeError(`double free at ${start}`);
    if (lo < this.#starts.length && start + units > this.#starts[lo]) throw new RangeError(`double free at ${start}`);
    const joinPrev = prev >= 0 && this.#starts[prev] + this.#lens[prev] === start;
    const joinNext = lo < this.#starts.length && start + units === this.#starts[lo];
    if (joinPrev && joinNext) {
      this.#lens[prev] += units + this.#lens[lo];
      this.#starts.splice(lo, 1);
      this.#lens.splice(lo, 1);
    } else if (joinPrev) {
      this.#lens[prev] += units;
    } else if (joinNext) {
      this.#starts[lo] = start;
      this.#lens[lo] += units;
    } else {
      this.#starts.splice(lo, 0, start);
      this.#lens.splice(lo, 0, units);
    }
    this.#free += units;
  }

  /** Free-space summary. */
  stats(): RangeStats {
    return {
      total: this.total,
      free: this.#free,
      largestFree: this.#lens.reduce((m, l) => Math.max(m, l), 0),
      freeRuns: this.#starts.length,
    };
  }
}

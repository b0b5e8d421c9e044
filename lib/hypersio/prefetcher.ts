/**
 * The reference's SID-sequence prefetcher. Per SID it keeps the last `histlen` translations; globally it learns one
 * mapping SID[k−1−dist] → SID[k] per SID (the first one is kept forever; never to itself). When the current SID has
 * a mapping, it suggests walks for every remembered translation of the predicted SID; their results fill a fully
 * associative LRU buffer of `size` entries that demand requests probe.
 * @module
 */
import { Cache } from "./cache.ts";
import type { Key } from "./cache_rows.ts";
import { GlibcRandom } from "./glibc_rand.ts";

/** A remembered translation (what a prefetch walk re-issues). */
export interface Remembered {
  sid: number;
  did: number;
  iovaHi: number;
  iovaLo: number;
  maskHi: number;
  maskLo: number;
  lvl: number;
  slpteHi: number;
  slpteLo: number;
}

/** Prefetcher counters, as the reference prints them. */
export interface PrefetcherStats {
  accesses: number;
  correctPredictions: number;
  incorrectPredictions: number;
  predictionsMade: number;
  newSidMappings: number;
  transToSameSid: number;
  transToDiffSid: number;
  distance: number;
  historyLength: number;
  /** Per SID: hits and misses of the current page in that SID's history. */
  history: { sid: number; hit: number; miss: number }[];
  bufferSize: number;
  fillSame: number;
  bufferFill: number;
  bufferHit: number;
  bufferMiss: number;
}

interface History {
  entries: Remembered[];
  hit: number;
  miss: number;
}

/** The prefetcher and its buffer. */
export class Prefetcher {
  readonly buffer: Cache;
  #history = new Map<number, History>();
  #next = new Map<number, number>();
  #global: number[] = [];
  #prevSid = 0;
  #prevSet = false;
  #predictionSet = false;
  #prediction = 0;
  #s = {
    accesses: 0,
    correctPredictions: 0,
    incorrectPredictions: 0,
    predictionsMade: 0,
    newSidMappings: 0,
    transToSameSid: 0,
    transToDiffSid: 0,
    fillSame: 0,
    bufferFill: 0,
    bufferHit: 0,
    bufferMiss: 0,
  };

  constructor(readonly bufferSize: number, readonly historyLength: number, readonly distance: number) {
    this.buffer = new Cache(
      "Prefetch Buffer",
      { size: bufferSize, assoc: bufferSize, groups: 1 },
      "lru",
      new GlibcRandom(1),
    );
  }

  /** Demand probe of the buffer (at context fill). */
  lookup(did: number, key: Key): boolean {
    const hit = this.buffer.translate(0, did, key, Infinity, false);
    if (hit) this.#s.bufferHit++;
    else this.#s.bufferMiss++;
    return hit;
  }

  /** A finished prefetch walk fills the buffer. */
  fill(did: number, key: Key): void {
    if (this.buffer.translate(0, did, key, Infinity, true)) this.#s.fillSame++;
    this.#s.bufferFill++;
  }

  /**
   * Records a demand translation; returns the translations to prefetch (a live view: use it before the next probe),
   * or null when there is no prediction.
   */
  probe(t: Remembered): Remembered[] | null {
    const s = this.#s;
    const sid = t.sid;
    s.accesses++;
    let h = this.#history.get(sid);
    if (!h) this.#history.set(sid, h = { entries: [], hit: 0, miss: 0 });
    const pHi = t.iovaHi & t.maskHi, pLo = t.iovaLo & t.maskLo;
    let found = false;
    for (const e of h.entries) {
      if ((e.iovaHi & e.maskHi) === pHi && (e.iovaLo & e.maskLo) === pLo) {
        found = true;
        break;
      }
    }
    if (found) h.hit++;
    else h.miss++;
    if (h.entries.length === this.historyLength) h.entries.shift();
    h.entries.push(t);

    if (this.#predictionSet) {
      if (sid === this.#prediction) s.correctPredictions++;
      else s.incorrectPredictions++;
    }
    let out: Remembered[] | null = null;
    const predicted = this.#next.get(sid);
    if (predicted !== undefined) {
      this.#prediction = predicted;
      let ph = this.#history.get(predicted);
      if (!ph) this.#history.set(predicted, ph = { entries: [], hit: 0, miss: 0 });
      out = ph.entries;
      this.#predictionSet = true;
      s.predictionsMade++;
    } else {
      this.#predictionSet = false;
    }
    if (this.#prevSet) {
      if (this.#prevSid !== sid) {
        if (!this.#next.has(this.#prevSid)) {
          s.newSidMappings++;
          this.#next.set(this.#prevSid, sid);
        }
        s.transToDiffSid++;
      } else {
        s.transToSameSid++;
      }
    }
    if (this.#global.length === this.distance) {
      this.#prevSid = this.#global.shift()!;
      this.#prevSet = true;
    }
    this.#global.push(sid);
    return out;
  }

  /** Current counters. */
  stats(): PrefetcherStats {
    return {
      ...this.#s,
      distance: this.distance,
      historyLength: this.historyLength,
      history: [...this.#history].sort((a, b) => a[0] - b[0]).map(([sid, h]) => ({ sid, hit: h.hit, miss: h.miss })),
      bufferSize: this.bufferSize,
    };
  }
}

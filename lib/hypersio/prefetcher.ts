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
import { IntMap } from "./int_map.ts";

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

/** Where a demand translation's fields are read from (the model's event pool), by index. */
export interface TranslationSource {
  sid: ArrayLike<number>;
  did: ArrayLike<number>;
  iovaHi: ArrayLike<number>;
  iovaLo: ArrayLike<number>;
  maskHi: ArrayLike<number>;
  maskLo: ArrayLike<number>;
  lvl: ArrayLike<number>;
  slpteHi: ArrayLike<number>;
  slpteLo: ArrayLike<number>;
  iotlbKey: ArrayLike<number>;
  bitsIotlb: ArrayLike<number>;
  bits21: ArrayLike<number>;
  bits30: ArrayLike<number>;
  /** KeyIds ids of the IOTLB, L2PAGE and L3PAGE keys (-1 when unknown). */
  iotlbId: ArrayLike<number>;
  l2Id: ArrayLike<number>;
  l3Id: ArrayLike<number>;
}

const FIELDS = [
  "sid",
  "did",
  "iovaHi",
  "iovaLo",
  "maskHi",
  "maskLo",
  "lvl",
  "slpteHi",
  "slpteLo",
  "iotlbKey",
  "bitsIotlb",
  "bits21",
  "bits30",
  "iotlbId",
  "l2Id",
  "l3Id",
] as const;

type Field = (typeof FIELDS)[number];

/** The prefetcher and its buffer. Histories live in flat typed arrays: a ring of `histlen` slots per SID. */
export class Prefetcher {
  readonly buffer: Cache;
  /** Remembered translations by slot (SID index × histlen + ring position). */
  slots: Record<Field, Float64Array> = Object.fromEntries(FIELDS.map((f) => [f, new Float64Array(0)])) as Record<
    Field,
    Float64Array
  >;
  /** Slots of the walks the last probe suggested (oldest first); valid until the next probe. */
  readonly walks: Int32Array;
  #sidIndex = new IntMap();
  #sids: number[] = [];
  #ringStart: number[] = [];
  #ringLen: number[] = [];
  #hit: number[] = [];
  #miss: number[] = [];
  #probed: boolean[] = [];
  #next = new IntMap();
  /** The last `distance` SIDs, as a ring. */
  #global: Int32Array;
  #globalHead = 0;
  #globalLen = 0;
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
    this.walks = new Int32Array(historyLength);
    this.#global = new Int32Array(Math.max(1, distance));
  }

  /** Demand probe of the buffer (at context fill). */
  lookup(did: number, key: Key): boolean {
    return this.#lookupResult(this.buffer.translate(0, did, key, Infinity, false));
  }

  /** lookup by KeyIds id (the model; do not mix with lookup/fill by key). */
  lookupId(did: number, keyId: number): boolean {
    return this.#lookupResult(this.buffer.lruLookup(0, did, keyId, true));
  }

  #lookupResult(hit: boolean): boolean {
    if (hit) this.#s.bufferHit++;
    else this.#s.bufferMiss++;
    return hit;
  }

  /** A finished prefetch walk fills the buffer. */
  fill(did: number, key: Key): void {
    if (this.buffer.translate(0, did, key, Infinity, true)) this.#s.fillSame++;
    this.#s.bufferFill++;
  }

  /** fill by KeyIds id (the model). */
  fillId(did: number, keyId: number): void {
    if (this.buffer.lruAccess(0, did, keyId, true, true, true)) this.#s.fillSame++;
    this.#s.bufferFill++;
  }

  /** Index of a SID's history (created empty, like the reference's `map::operator[]`). */
  #indexOf(sid: number): number {
    let i = this.#sidIndex.get(sid);
    if (i >= 0) return i;
    i = this.#sids.length;
    this.#sidIndex.set(sid, i);
    this.#sids.push(sid), this.#ringStart.push(0), this.#ringLen.push(0), this.#hit.push(0), this.#miss.push(0);
    this.#probed.push(false);
    const need = (i + 1) * this.historyLength;
    if (need > this.slots.sid.length) {
      const cap = Math.max(need, this.slots.sid.length * 2, 16 * this.historyLength);
      for (const f of FIELDS) {
        const a = new Float64Array(cap);
        a.set(this.slots[f]);
        this.slots[f] = a;
      }
    }
    return i;
  }

  /**
   * Records the demand translation `src[i]`. Returns how many walks to issue — their slots are `walks[0..n)`, oldest
   * first — or -1 when there is no prediction.
   */
  probeFrom(src: TranslationSource, i: number): number {
    const s = this.#s, H = this.historyLength;
    const sid = src.sid[i];
    s.accesses++;
    const x = this.#indexOf(sid);
    this.#probed[x] = true;
    const sl = this.slots;
    const start = this.#ringStart[x], len = this.#ringLen[x], base = x * H;
    const pHi = (src.iovaHi[i] & src.maskHi[i]) >>> 0, pLo = (src.iovaLo[i] & src.maskLo[i]) >>> 0;
    // Ring positions wrap by subtraction (start, len < H): no division on this path.
    let found = false;
    for (let k = 0, r = start; k < len; k++) {
      const j = base + r;
      if (((sl.iovaHi[j] & sl.maskHi[j]) >>> 0) === pHi && ((sl.iovaLo[j] & sl.maskLo[j]) >>> 0) === pLo) {
        found = true;
        break;
      }
      if (++r === H) r = 0;
    }
    if (found) this.#hit[x]++;
    else this.#miss[x]++;
    let at: number;
    if (len === H) {
      at = base + start;
      this.#ringStart[x] = start + 1 === H ? 0 : start + 1;
    } else {
      const r = start + len;
      at = base + (r >= H ? r - H : r);
      this.#ringLen[x] = len + 1;
    }
    sl.sid[at] = sid, sl.did[at] = src.did[i], sl.iovaHi[at] = src.iovaHi[i], sl.iovaLo[at] = src.iovaLo[i];
    sl.maskHi[at] = src.maskHi[i], sl.maskLo[at] = src.maskLo[i], sl.lvl[at] = src.lvl[i];
    sl.slpteHi[at] = src.slpteHi[i], sl.slpteLo[at] = src.slpteLo[i], sl.iotlbKey[at] = src.iotlbKey[i];
    sl.bitsIotlb[at] = src.bitsIotlb[i];
    sl.bits21[at] = src.bits21[i], sl.bits30[at] = src.bits30[i];
    sl.iotlbId[at] = src.iotlbId[i], sl.l2Id[at] = src.l2Id[i], sl.l3Id[at] = src.l3Id[i];

    if (this.#predictionSet) {
      if (sid === this.#prediction) s.correctPredictions++;
      else s.incorrectPredictions++;
    }
    let n = -1;
    const predicted = this.#next.get(sid);
    if (predicted >= 0) {
      this.#prediction = predicted;
      const y = this.#indexOf(predicted);
      const ys = this.#ringStart[y], yl = this.#ringLen[y];
      for (let k = 0, r = ys; k < yl; k++) {
        this.walks[k] = y * H + r;
        if (++r === H) r = 0;
      }
      n = yl;
      this.#predictionSet = true;
      s.predictionsMade++;
    } else {
      this.#predictionSet = false;
    }
    if (this.#prevSet) {
      if (this.#prevSid !== sid) {
        if (this.#next.get(this.#prevSid) < 0) {
          s.newSidMappings++;
          this.#next.set(this.#prevSid, sid);
        }
        s.transToDiffSid++;
      } else {
        s.transToSameSid++;
      }
    }
    const g = this.#global, D = this.distance;
    if (this.#globalLen === D) {
      this.#prevSid = g[this.#globalHead];
      this.#globalHead = this.#globalHead + 1 === D ? 0 : this.#globalHead + 1;
      this.#globalLen--;
      this.#prevSet = true;
    }
    const w = this.#globalHead + this.#globalLen;
    g[w >= D ? w - D : w] = sid;
    this.#globalLen++;
    return n;
  }

  /**
   * Object form of probeFrom (tests, tools): records `t` and returns copies of the translations to prefetch, or null
   * when there is no prediction.
   */
  probe(t: Remembered): Remembered[] | null {
    const rec = t as unknown as Record<string, number>;
    const src = Object.fromEntries(
      FIELDS.map((f) => [f, [rec[f] ?? (f.endsWith("Id") ? -1 : 0)]]),
    ) as unknown as TranslationSource;
    const n = this.probeFrom(src, 0);
    if (n < 0) return null;
    const sl = this.slots;
    return Array.from(this.walks.subarray(0, n), (j) => ({
      sid: sl.sid[j],
      did: sl.did[j],
      iovaHi: sl.iovaHi[j],
      iovaLo: sl.iovaLo[j],
      maskHi: sl.maskHi[j],
      maskLo: sl.maskLo[j],
      lvl: sl.lvl[j],
      slpteHi: sl.slpteHi[j],
      slpteLo: sl.slpteLo[j],
    }));
  }

  /** Current counters. */
  stats(): PrefetcherStats {
    return {
      ...this.#s,
      distance: this.distance,
      historyLength: this.historyLength,
      history: this.#sids.map((sid, x) => ({ sid, hit: this.#hit[x], miss: this.#miss[x], probed: this.#probed[x] }))
        .filter((h) => h.probed)
        .map(({ sid, hit, miss }) => ({ sid, hit, miss }))
        .sort((a, b) => a.sid - b.sid),
      bufferSize: this.bufferSize,
    };
  }
}

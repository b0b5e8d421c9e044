/**
 * The HyperSIO performance model (spec §4), faithful to the reference by default. A packet slot comes every
 * `floor(12336 / Gb/s)` ns; each nanosecond runs one cycle of the pipeline (context fill → page caches → page fill →
 * IOTLB fill), each stage taking at most one ready event. In `event` mode the clock jumps straight to the next
 * nanosecond where a slot falls or a queue head becomes ready; every cycle that runs is the same cycle the
 * reference runs, so results are identical to `tick` mode (which visits every ns, like the reference).
 * @module
 */
import { HyperlabError, InputError } from "../core/errors.ts";
import { Cache, type CacheStats } from "./cache.ts";
import {
  type ModelConfig,
  parseModelConfig,
  parseRunOptions,
  type RunOptions,
  type RunOptionsInput,
} from "./config.ts";
import { GlibcRandom } from "./glibc_rand.ts";
import { IntMap } from "./int_map.ts";
import { EventPool } from "./event_pool.ts";
import { canFuse, runFusedEvents } from "./event_loop.ts";
import { Prefetcher, type PrefetcherStats } from "./prefetcher.ts";
import { FifoQueue, HeapQueue, type ReadyQueue } from "./ready_queue.ts";
import { badType, IOTLB_RECORD_BYTES, RecordReader, TRANSLATE_TYPE } from "./trace_format.ts";

/** Latencies in ns (reference defines.h). */
export const LATENCY = {
  pcie: 450,
  ddr: 50,
  contextEntryRead: 100,
  iotlbHit: 2,
  prefetchHit: 2,
  contextHit: 1,
  pageCacheHit: 5,
} as const;
const CONTEXT_HIT = LATENCY.contextHit, CONTEXT_MISS = 2 * LATENCY.pcie + LATENCY.contextEntryRead;

/** Bytes per packet and translations per packet. */
export const PACKET_BYTES = 1542;
/** Translations issued per packet. */
export const TRANSLATIONS_PER_PACKET = 3;

/** Per-tenant (DID) completion statistics. */
export interface FlowStats {
  did: number;
  timeNs: number;
  translations: number;
  mbps: number;
}

/** Everything a run reports. */
export interface ModelResult {
  elapsedNs: number;
  translations: number;
  droppedPackets: number;
  mbps: number;
  /** Mb/s ÷ (1000 · Gb/s); can exceed 1 slightly because the slot is truncated to whole ns. */
  utilization: number;
  caches: { CC: CacheStats; IOTLB: CacheStats; L2PAGE: CacheStats; L3PAGE: CacheStats };
  prefetcher: PrefetcherStats;
  flows: FlowStats[];
  config: ModelConfig;
  options: RunOptions;
  /** Cycles the loop actually ran (equals elapsedNs in tick mode). */
  cyclesRun: number;
}

/** Runs the model on the trace whose `iotlb_trace.bin` is `iotlbPath`. */
export function runModel(
  iotlbPath: string,
  config: unknown = {},
  options: RunOptionsInput = {},
  signal?: AbortSignal,
): ModelResult {
  const cfg = parseModelConfig(config);
  const opt = parseRunOptions(options);
  using reader = new RecordReader(iotlbPath, IOTLB_RECORD_BYTES);
  return new Simulation(cfg, opt, reader, signal).run();
}

class Simulation {
  readonly rng = new GlibcRandom(1);
  readonly cc: Cache;
  readonly iotlb: Cache;
  readonly l2: Cache;
  readonly l3: Cache;
  readonly pf: Prefetcher;
  readonly ccFill: ReadyQueue;
  readonly pcache: ReadyQueue;
  readonly pFill: ReadyQueue;
  readonly iotlbFill: ReadyQueue;
  readonly ev: EventPool;
  /** Per-DID completion stats: flow index of each DID, then start, end and count by flow index. */
  readonly flowOf = new IntMap();
  readonly flows: { did: number[]; start: number[]; end: number[]; count: number[] } = {
    did: [],
    start: [],
    end: [],
    count: [],
  };
  readonly interval: number;
  readonly shift: number;
  readonly countAtFill: boolean;
  readonly prefetchWithoutBuffer: boolean;
  readonly walkByLevel: boolean;
  readonly iotlbLru: boolean;
  inFlight = 0;
  translations = 0;
  dropped = 0;
  cycles = 0;

  constructor(
    readonly cfg: ModelConfig,
    readonly opt: RunOptions,
    readonly reader: RecordReader,
    readonly signal?: AbortSignal,
  ) {
    this.cc = new Cache("CC", cfg.CC, "lfu", this.rng, "sid");
    this.iotlb = new Cache("IOTLB", cfg.IOTLB, opt.iotlbRepl, this.rng);
    this.l2 = new Cache("L2PAGE", cfg.L2PAGE, "lru", this.rng);
    this.l3 = new Cache("L3PAGE", cfg.L3PAGE, "lru", this.rng);
    this.pf = new Prefetcher(cfg.PREFETCH.size, cfg.PREFETCH.histlen, cfg.PREFETCH.assoc);
    const q = () => opt.inorder ? new FifoQueue() : new HeapQueue();
    this.ccFill = q(), this.pcache = q(), this.pFill = q(), this.iotlbFill = q();
    this.interval = Math.floor((PACKET_BYTES * 8) / opt.linkGbps);
    this.shift = opt.quirks.iotlbIndex2M ? 21 : 12;
    this.ev = new EventPool(this.shift, this.iotlb.indexMask);
    this.countAtFill = opt.quirks.iotlbCountAtFill;
    this.prefetchWithoutBuffer = opt.quirks.prefetchWithoutBuffer;
    this.walkByLevel = opt.quirks.walkLatencyByLevel;
    this.iotlbLru = this.iotlb.isLru;
    if (opt.salloc) {
      // Static partitioning: IOTLB takes DIDs 0..G1-1, L2PAGE the next G2, L3PAGE the next G3.
      const range = (from: number, n: number) => new Set(Array.from({ length: n }, (_, i) => from + i));
      this.iotlb.cacheable = range(0, cfg.IOTLB.groups);
      this.l2.cacheable = range(cfg.IOTLB.groups, cfg.L2PAGE.groups);
      this.l3.cacheable = range(cfg.IOTLB.groups + cfg.L2PAGE.groups, cfg.L3PAGE.groups);
    }
  }

  run(): ModelResult {
    const t = this.opt.mode === "tick" ? this.runTick() : canFuse(this) ? runFusedEvents(this) : this.runEvent();
    return this.result(t);
  }

  /** Reference-style loop: visits every nanosecond, as the reference does; returns the elapsed ns. */
  runTick(): number {
    const interval = this.interval;
    let t = 0;
    let ended = false;
    for (;;) {
      if (t % interval === 0) ended = this.slot(t);
      if (ended) break;
      this.cycle(t);
      t++;
      if ((t & 65535) === 0) this.signal?.throwIfAborted();
    }
    this.checkTranslations();
    while (this.inFlight > 0) {
      this.cycle(t);
      t++;
      if ((t & 65535) === 0) this.signal?.throwIfAborted();
    }
    return t;
  }

  /**
   * Event-driven loop: runs only the nanoseconds where a packet slot falls or a queue head becomes ready (the same
   * cycles, in the same order, as the tick loop runs with effect). While the pending-translation buffer is full, the
   * slots before the next ready event are all dropped packets: counted in one step. Returns the elapsed ns.
   */
  runEvent(): number {
    const interval = this.interval, tqueue = this.opt.tqueue;
    const a = this.ccFill, b = this.pcache, c = this.pFill, d = this.iotlbFill;
    let t = 0;
    let slot = 0; // the first packet slot at or after t
    let guard = 0;
    let cycles = 0;
    for (;;) {
      if (t === slot) {
        slot += interval;
        if (this.slot(t)) break;
      }
      // One cycle (as `cycle`, inlined): each stage takes its queue's head if it is ready.
      cycles++;
      if (a.head <= t) this.contextFill(t, a.pop());
      if (b.head <= t) this.pageCaches(t, b.pop());
      if (c.head <= t) this.pageFill(t, c.pop());
      if (d.head <= t) this.fillIotlb(d.pop());
      let next = a.head, h = b.head;
      if (h < next) next = h;
      if ((h = c.head) < next) next = h;
      if ((h = d.head) < next) next = h;
      if (next <= t) next = t + 1;
      if (this.inFlight >= tqueue) {
        // Until a queue head is ready nothing can change: every slot before it is a dropped packet.
        if (next > slot) {
          const k = Math.floor((next - 1 - slot) / interval) + 1;
          this.dropped += k;
          slot += k * interval;
        }
        t = next;
      } else {
        t = next < slot ? next : slot;
      }
      if (++guard === 65536) {
        guard = 0;
        this.signal?.throwIfAborted();
      }
    }
    this.cycles += cycles;
    this.checkTranslations();
    while (this.inFlight > 0) {
      this.cycle(t);
      if (this.inFlight === 0) t++;
      else {
        const next = Math.min(a.head, b.head, c.head, d.head);
        if (next === Infinity) {
          throw new HyperlabError("model", `BUG: ${this.inFlight} translations in flight, none queued`);
        }
        t = next <= t ? t + 1 : next;
      }
      if (++guard === 65536) {
        guard = 0;
        this.signal?.throwIfAborted();
      }
    }
    return t;
  }

  /** A packet slot at `t`: issues the next packet's translations, or counts a drop. True at the end of the trace. */
  slot(t: number): boolean {
    if (this.inFlight >= this.opt.tqueue) {
      this.dropped++;
      return false;
    }
    for (let i = 0; i < TRANSLATIONS_PER_PACKET; i++) if (!this.issue(t)) return true;
    return false;
  }

  checkTranslations(): void {
    if (this.translations === 0) {
      throw new HyperlabError(
        "input",
        `${this.reader.path}: the trace has no translations (the reference divides by 0)`,
      );
    }
  }

  /** Reads the next record and starts its translation; false at the end of the trace. */
  issue(t: number): boolean {
    const id = this.issueRecord(t);
    if (id < 0) return false;
    this.ccFill.push(this.ev.end[id], id);
    return true;
  }

  /**
   * Reads the next record and starts its translation: returns its event id, whose context fill is due at
   * `ev.end[id]` (the caller queues it), or -1 at the end of the trace.
   */
  issueRecord(t: number): number {
    const o = this.reader.nextOffset();
    if (o < 0) return -1;
    const v = this.reader.view;
    const lvl = v.getUint32(o + 24, true);
    // Latencies are computed from the level; the reference would schedule events ~2^64 ns away and never finish.
    if (v.getUint32(o, true) !== TRANSLATE_TYPE || v.getUint32(o + 28, true) !== 0 || lvl > 5) this.#badRecord(o);
    const ev = this.ev;
    const id = ev.alloc();
    ev.sid[id] = v.getUint16(o + 4, true);
    ev.did[id] = v.getUint16(o + 6, true);
    ev.iovaLo[id] = v.getUint32(o + 8, true);
    ev.iovaHi[id] = v.getUint32(o + 12, true);
    ev.maskLo[id] = v.getUint32(o + 16, true);
    ev.maskHi[id] = v.getUint32(o + 20, true);
    ev.lvl[id] = lvl;
    ev.slpteLo[id] = v.getUint32(o + 32, true);
    ev.slpteHi[id] = v.getUint32(o + 36, true);
    const natHi = v.getUint32(o + 44, true), natLo = v.getUint32(o + 40, true);
    ev.nat[id] = natHi === 0xffffffff && natLo === 0xffffffff ? Infinity : natHi * 4294967296 + natLo;
    ev.prefetch[id] = 0;
    ev.derive(id);
    this.translations++;
    this.inFlight++;
    // Context-cache lookup (no allocation) decides when the context fill happens.
    const hit = this.cc.translate(ev.sid[id], ev.did[id], ev.sid[id], 0, false);
    ev.start[id] = t;
    ev.end[id] = t + (hit ? CONTEXT_HIT : CONTEXT_MISS);
    return id;
  }

  /** Throws the error of the record at offset `o` (a wrong type or an impossible level); kept out of issueRecord. */
  #badRecord(o: number): never {
    const v = this.reader.view, at = this.reader.index - 1;
    const type = v.getUint32(o, true);
    if (type !== TRANSLATE_TYPE) throw badType(this.reader.path, at, type);
    const lvlHi = v.getUint32(o + 28, true);
    throw new InputError(
      `${this.reader.path} record ${at} lvl`,
      "a page level 0..5",
      lvlHi ? "≥ 2^32" : v.getUint32(o + 24, true),
    );
  }

  /** One nanosecond of the pipeline: each stage takes its queue's head if it is ready. */
  cycle(t: number): void {
    this.cycles++;
    if (this.ccFill.head <= t) this.contextFill(t, this.ccFill.pop());
    if (this.pcache.head <= t) this.pageCaches(t, this.pcache.pop());
    if (this.pFill.head <= t) this.pageFill(t, this.pFill.pop());
    if (this.iotlbFill.head <= t) this.fillIotlb(this.iotlbFill.pop());
  }

  /** Page fill: allocate in L2PAGE and L3PAGE, then the IOTLB fill after the return trip. */
  pageFill(t: number, id: number): void {
    const ev = this.ev;
    const did = ev.did[id];
    const c2 = this.l2.isCacheable(did), c3 = this.l3.isCacheable(did);
    this.l2.lruAccess(ev.bits21[id], did, ev.l2Id[id], true, c2, c2);
    this.l3.lruAccess(ev.bits30[id], did, ev.l3Id[id], true, c3, c3);
    ev.end[id] += LATENCY.pcie;
    this.iotlbFill.push(t + LATENCY.pcie, id);
  }

  /** IOTLB fill: a prefetch fills the prefetch buffer; a demand request allocates in the IOTLB and completes. */
  fillIotlb(id: number): void {
    const ev = this.ev;
    const did = ev.did[id];
    if (ev.prefetch[id]) {
      this.pf.fillId(did, ev.iotlbId[id]);
    } else {
      const ok = this.iotlb.isCacheable(did);
      this.iotlbAccess(id, ok, this.countAtFill && ok);
      this.complete(id);
    }
    ev.release(id);
  }

  /** The IOTLB's Translate for event `id`: by key id when LRU, else by key (LFU/oracle rows need key and nat). */
  iotlbAccess(id: number, alloc: boolean, count: boolean): boolean {
    const ev = this.ev;
    if (!this.iotlbLru) {
      return this.iotlb.translate(ev.bitsIotlb[id], ev.did[id], ev.iotlbKey[id], ev.nat[id], alloc, count);
    }
    const fixed = ev.iotlbFixed[id] === 1;
    return alloc || count
      ? this.iotlb.lruAccess(ev.bitsIotlb[id], ev.did[id], ev.iotlbId[id], fixed, alloc, count)
      : this.iotlb.lruLookup(ev.bitsIotlb[id], ev.did[id], ev.iotlbId[id], fixed);
  }

  contextFill(t: number, id: number): void {
    const ev = this.ev;
    const did = ev.did[id];
    this.cc.translate(ev.sid[id], did, ev.sid[id], 0, true);
    const countNow = !this.countAtFill;
    const iotlbHit = this.iotlbAccess(id, false, countNow);
    const prefetchHit = this.pf.lookupId(did, ev.iotlbId[id]);
    if (iotlbHit || prefetchHit) {
      ev.end[id] += LATENCY.iotlbHit;
      this.iotlbFill.push(t + LATENCY.iotlbHit - 1, id);
    } else {
      ev.end[id] += LATENCY.pcie;
      this.pcache.push(t + LATENCY.pcie, id);
    }
    const n = this.pf.probeFrom(ev, id);
    if (n > 0 && (this.prefetchWithoutBuffer || this.pf.bufferSize > 0)) {
      const sl = this.pf.slots, walks = this.pf.walks;
      for (let k = 0; k < n; k++) {
        const j = walks[k];
        const p = ev.alloc();
        // A walk only needs what the page caches and the prefetch buffer read (and lvl/did for errors).
        ev.did[p] = sl.did[j], ev.lvl[p] = sl.lvl[j], ev.nat[p] = Infinity, ev.prefetch[p] = 1;
        ev.iotlbKey[p] = sl.iotlbKey[j];
        ev.bits21[p] = sl.bits21[j], ev.bits30[p] = sl.bits30[j];
        ev.iotlbId[p] = sl.iotlbId[j], ev.l2Id[p] = sl.l2Id[j], ev.l3Id[p] = sl.l3Id[j];
        ev.start[p] = 0, ev.end[p] = LATENCY.pcie + LATENCY.ddr;
        this.pcache.push(t + LATENCY.pcie + LATENCY.ddr, p);
      }
    }
  }

  pageCaches(t: number, id: number): void {
    const ev = this.ev;
    const did = ev.did[id], lvl = ev.lvl[id];
    const l2hit = this.l2.lruLookup(ev.bits21[id], did, ev.l2Id[id], true);
    const l3hit = this.l3.lruLookup(ev.bits30[id], did, ev.l3Id[id], true);
    let lat: number;
    let toIotlb = false;
    if (l2hit) {
      if (lvl === 2) {
        lat = LATENCY.pageCacheHit + LATENCY.pcie;
        toIotlb = true;
      } else if (lvl > 2) throw this.lost(id, "L2PAGE");
      else lat = LATENCY.ddr * (2 - lvl);
    } else if (l3hit) {
      if (lvl === 3) {
        lat = LATENCY.pageCacheHit;
        toIotlb = true;
      } else if (lvl > 3) throw this.lost(id, "L3PAGE");
      else lat = LATENCY.ddr * (3 - lvl);
    } else {
      lat = LATENCY.ddr * (this.walkByLevel ? lvl : 4 - lvl);
    }
    ev.end[id] += lat;
    (toIotlb ? this.iotlbFill : this.pFill).push(t + lat - 1, id);
  }

  lost(id: number, cache: string): HyperlabError {
    return new HyperlabError(
      "input",
      `${this.reader.path}: a level-${this.ev.lvl[id]} translation (DID ${this.ev.did[id]}) hit in ${cache}; ` +
        `the reference drops such a request and never finishes draining`,
    );
  }

  complete(id: number): void {
    const ev = this.ev, f = this.flows;
    this.inFlight--;
    const did = ev.did[id], start = ev.start[id], end = ev.end[id];
    const x = this.flowOf.get(did);
    if (x < 0) {
      this.flowOf.set(did, f.did.length);
      f.did.push(did), f.start.push(start), f.end.push(end), f.count.push(1);
    } else {
      f.count[x]++;
      if (start < f.start[x]) f.start[x] = start;
      if (end > f.end[x]) f.end[x] = end;
    }
  }

  result(t: number): ModelResult {
    const pkts = Math.floor(this.translations / TRANSLATIONS_PER_PACKET);
    const mbps = Math.floor((pkts * PACKET_BYTES * 8 * 1000) / t);
    const fl = this.flows;
    const flows = fl.did.map((did, x) => ({ did, start: fl.start[x], end: fl.end[x], count: fl.count[x] }))
      .sort((a, b) => a.did - b.did).map(({ did, ...f }) => ({
        did,
        timeNs: f.end - f.start,
        translations: f.count,
        mbps: Math.floor((Math.floor(f.count / TRANSLATIONS_PER_PACKET) * PACKET_BYTES * 8 * 1000) / (f.end - f.start)),
      }));
    return {
      elapsedNs: t,
      translations: this.translations,
      droppedPackets: this.dropped,
      mbps,
      utilization: mbps / (1000 * this.opt.linkGbps),
      caches: { CC: this.cc.stats(), IOTLB: this.iotlb.stats(), L2PAGE: this.l2.stats(), L3PAGE: this.l3.stats() },
      prefetcher: this.pf.stats(),
      flows,
      config: this.cfg,
      options: this.opt,
      cyclesRun: this.cycles,
    };
  }
}

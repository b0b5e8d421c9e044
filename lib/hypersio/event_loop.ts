/**
 * The model's event-driven loop fused into one function, for the common configuration (priority queues, LRU IOTLB, no
 * static partitioning, caches with sets): the four pipeline stages run inline over the event pool's typed arrays, the
 * queues are libstdc++-ordered binary heaps on local typed arrays, and the page caches' and IOTLB's plain lookups (the
 * LRU hit path) are inlined. It visits the same cycles, in the same order, as Simulation.runEvent (which stays for
 * every other configuration), so results are bit-identical; the tests compare it with the tick loop.
 * @module
 */
import { HyperlabError } from "../core/errors.ts";
import type { Cache } from "./cache.ts";
import type { EventPool } from "./event_pool.ts";
import type { Prefetcher } from "./prefetcher.ts";
import { heapPop, heapPush } from "./libstdcxx_heap.ts";
import { ACCESS_HIT } from "./lru_sets.ts";

/** What the fused loop needs from the simulation (Simulation in model.ts). */
export interface FusedHost {
  readonly interval: number;
  readonly opt: { readonly tqueue: number; readonly inorder: boolean };
  readonly ev: EventPool;
  readonly cc: Cache;
  readonly iotlb: Cache;
  readonly l2: Cache;
  readonly l3: Cache;
  readonly pf: Prefetcher;
  readonly countAtFill: boolean;
  readonly prefetchWithoutBuffer: boolean;
  readonly walkByLevel: boolean;
  readonly signal?: AbortSignal;
  inFlight: number;
  dropped: number;
  cycles: number;
  /** Starts the next record's translation: its id (context fill due at `ev.end[id]`), or -1 at the end. */
  issueRecord(t: number): number;
  /** Completes demand translation `id` (in-flight − 1, per-DID stats). */
  complete(id: number): void;
  /** The error for a translation of level `lvl[id]` that hit in a page cache above its level. */
  lost(id: number, cache: string): Error;
  /** Throws when the trace had no translations. */
  checkTranslations(): void;
}

/** Whether the fused loop models `h` exactly (else the caller runs its general loop). */
export function canFuse(h: FusedHost): boolean {
  const lru = (c: Cache) => c.lru !== null && c.sets > 0 && c.cacheable === null;
  return !h.opt.inorder && lru(h.iotlb) && lru(h.l2) && lru(h.l3);
}

// Latencies (model.ts LATENCY): PCIe one way, DDR, IOTLB/prefetch-buffer hit, page-cache hit.
const PCIE = 450, DDR = 50, IOTLB_HIT = 2, PAGE_HIT = 5;
const NONE = -1;

const growF = (a: Float64Array): Float64Array => {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
};
const growI = (a: Int32Array): Int32Array => {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
};

/** The loop's state between chunks: the four queues (time and id heaps) and the clock. */
interface LoopState {
  ta: Float64Array;
  va: Int32Array;
  na: number;
  tb: Float64Array;
  vb: Int32Array;
  nb: number;
  tc: Float64Array;
  vc: Int32Array;
  nc: number;
  td: Float64Array;
  vd: Int32Array;
  nd: number;
  t: number;
  slot: number;
  cycles: number;
  dropped: number;
  draining: boolean;
  done: boolean;
}

/** Cycles per chunk: the abort signal is checked between chunks. */
const CHUNK = 65536;

/**
 * Runs the event-driven model on `h` (canFuse(h) must hold); returns the elapsed ns. The loop runs in chunks of
 * {@link CHUNK} cycles so that V8 optimizes runChunk as an ordinary hot function, whose code outlives a run, instead
 * of on-stack-replacing one long loop per run (and re-tiering after each deopt).
 */
export function runFusedEvents(h: FusedHost): number {
  const q = () => ({ t: new Float64Array(64), v: new Int32Array(64) });
  const [a, b, c, d] = [q(), q(), q(), q()];
  const s: LoopState = {
    ta: a.t,
    va: a.v,
    na: 0,
    tb: b.t,
    vb: b.v,
    nb: 0,
    tc: c.t,
    vc: c.v,
    nc: 0,
    td: d.t,
    vd: d.v,
    nd: 0,
    t: 0,
    slot: 0,
    cycles: 0,
    dropped: 0,
    draining: false,
    done: false,
  };
  while (!runChunk(h, s)) h.signal?.throwIfAborted();
  h.cycles += s.cycles;
  h.dropped += s.dropped;
  return s.t;
}

/** Runs up to {@link CHUNK} cycles; true once the run is over (state saved in `s` either way). */
function runChunk(h: FusedHost, s: LoopState): boolean {
  const interval = h.interval, tqueue = h.opt.tqueue;
  const ev = h.ev, pf = h.pf, cc = h.cc, iotlb = h.iotlb, l2c = h.l2, l3c = h.l3;
  const LI = iotlb.lru!, L2 = l2c.lru!, L3 = l3c.lru!;
  const igm = iotlb.groupMask, igs = iotlb.groupShift, iim = iotlb.indexMask;
  const g2m = l2c.groupMask, g2s = l2c.groupShift, i2m = l2c.indexMask;
  const g3m = l3c.groupMask, g3s = l3c.groupShift, i3m = l3c.indexMask;
  const liP = LI.prev, liN = LI.next, liH = LI.head, liT = LI.tail;
  const l2P = L2.prev, l2N = L2.next, l2H = L2.head, l2T = L2.tail;
  const l3P = L3.prev, l3N = L3.next, l3H = L3.head, l3T = L3.tail;
  const countAtFill = h.countAtFill, byLevel = h.walkByLevel;
  const walksOn = h.prefetchWithoutBuffer || pf.bufferSize > 0;
  // Allocations per iteration: one packet's translations, then one probe's walks.
  const need = 3 + pf.historyLength;
  // Queues: context fill (a), page caches (b), page fill (c), IOTLB fill (d).
  let ta = s.ta, va = s.va, na = s.na, tb = s.tb, vb = s.vb, nb = s.nb;
  let tc = s.tc, vc = s.vc, nc = s.nc, td = s.td, vd = s.vd, nd = s.nd;
  ev.reserve(need);
  let eDid = ev.did, eSid = ev.sid, eLvl = ev.lvl, eNat = ev.nat, eStart = ev.start, eEnd = ev.end;
  let ePf = ev.prefetch, eKey = ev.iotlbKey, eBI = ev.bitsIotlb, eB21 = ev.bits21, eB30 = ev.bits30;
  let eIid = ev.iotlbId, eFix = ev.iotlbFixed, eL2 = ev.l2Id, eL3 = ev.l3Id;
  let t = s.t, slot = s.slot, cycles = s.cycles, dropped = s.dropped;
  let draining = s.draining, done = false;
  // Small heaps (the usual case) push at the end and pop the last entry inline; the sifts are calls.
  let pushAt = 0;
  for (let budget = CHUNK; budget > 0; budget--) {
    if (ev.nFree + ev.cap - ev.used < need) {
      ev.reserve(need);
      eDid = ev.did, eSid = ev.sid, eLvl = ev.lvl, eNat = ev.nat, eStart = ev.start, eEnd = ev.end;
      ePf = ev.prefetch, eKey = ev.iotlbKey, eBI = ev.bitsIotlb, eB21 = ev.bits21, eB30 = ev.bits30;
      eIid = ev.iotlbId, eFix = ev.iotlbFixed, eL2 = ev.l2Id, eL3 = ev.l3Id;
    }
    if (!draining && t === slot) {
      // A packet slot: issue the next packet's translations, or count a dropped packet.
      slot += interval;
      if (h.inFlight >= tqueue) dropped++;
      else {
        let k = 0;
        for (; k < 3; k++) {
          const id = h.issueRecord(t);
          if (id < 0) break;
          if (na === ta.length) ta = growF(ta), va = growI(va);
          pushAt = eEnd[id];
          if (na === 0 || !(ta[(na - 1) >> 1] > pushAt)) ta[na] = pushAt, va[na] = id;
          else heapPush(ta, va, na, pushAt, id);
          na++;
        }
        if (k < 3) {
          draining = true;
          h.checkTranslations();
          if (h.inFlight === 0) {
            done = true;
            break;
          }
        }
      }
    }
    cycles++;
    // Context fill: allocate in the context cache; probe the IOTLB and the prefetch buffer; record for the prefetcher.
    if (na > 0 && ta[0] <= t) {
      let id: number;
      if (na > 2) id = heapPop(ta, va, na);
      else {
        id = va[0];
        if (na === 2) ta[0] = ta[1], va[0] = va[1];
      }
      na--;
      const did = eDid[id], sid = eSid[id], bi = eBI[id], kid = eIid[id], fixed = eFix[id] === 1;
      cc.translate(sid, did, sid, 0, true);
      let hit: boolean;
      if (!countAtFill) hit = iotlb.lruAccess(bi, did, kid, fixed, false, true);
      else if (fixed && LI.indexed) {
        const w = LI.where, s = kid < w.length ? w[kid] : NONE;
        hit = s !== NONE;
        if (hit) {
          const set = ((did & igm) << igs) | (bi & iim), hd = liH[set];
          if (hd !== s) {
            const p = liP[s], q = liN[s];
            liN[p] = q;
            if (q === NONE) liT[set] = p;
            else liP[q] = p;
            liP[s] = NONE, liN[s] = hd, liP[hd] = s, liH[set] = s;
          }
        }
      } else hit = iotlb.lruLookup(bi, did, kid, fixed);
      const pfHit = pf.lookupId(did, kid);
      if (hit || pfHit) {
        eEnd[id] += IOTLB_HIT;
        if (nd === td.length) td = growF(td), vd = growI(vd);
        pushAt = t + IOTLB_HIT - 1;
        if (nd === 0 || !(td[(nd - 1) >> 1] > pushAt)) td[nd] = pushAt, vd[nd] = id;
        else heapPush(td, vd, nd, pushAt, id);
        nd++;
      } else {
        eEnd[id] += PCIE;
        if (nb === tb.length) tb = growF(tb), vb = growI(vb);
        pushAt = t + PCIE;
        if (nb === 0 || !(tb[(nb - 1) >> 1] > pushAt)) tb[nb] = pushAt, vb[nb] = id;
        else heapPush(tb, vb, nb, pushAt, id);
        nb++;
      }
      const n = pf.probeFrom(ev, id);
      if (n > 0 && walksOn) {
        const sl = pf.slots, walks = pf.walks;
        const sDid = sl.did, sLvl = sl.lvl, sKey = sl.iotlbKey, sB21 = sl.bits21, sB30 = sl.bits30;
        const sIid = sl.iotlbId, sL2 = sl.l2Id, sL3 = sl.l3Id;
        for (let k = 0; k < n; k++) {
          const j = walks[k];
          const p = ev.alloc(); // reserved: the arrays stay the same
          eDid[p] = sDid[j], eLvl[p] = sLvl[j], eNat[p] = Infinity, ePf[p] = 1, eKey[p] = sKey[j];
          eB21[p] = sB21[j], eB30[p] = sB30[j], eIid[p] = sIid[j], eL2[p] = sL2[j], eL3[p] = sL3[j];
          eStart[p] = 0, eEnd[p] = PCIE + DDR;
          if (nb === tb.length) tb = growF(tb), vb = growI(vb);
          pushAt = t + PCIE + DDR;
          if (nb === 0 || !(tb[(nb - 1) >> 1] > pushAt)) tb[nb] = pushAt, vb[nb] = p;
          else heapPush(tb, vb, nb, pushAt, p);
          nb++;
        }
      }
    }
    // Page caches: L2PAGE and L3PAGE lookups decide the walk's remaining latency.
    if (nb > 0 && tb[0] <= t) {
      let id: number;
      if (nb > 2) id = heapPop(tb, vb, nb);
      else {
        id = vb[0];
        if (nb === 2) tb[0] = tb[1], vb[0] = vb[1];
      }
      nb--;
      const did = eDid[id], lvl = eLvl[id];
      let l2hit: boolean, l3hit: boolean;
      if (L2.indexed) {
        const kid = eL2[id], w = L2.where, s = kid < w.length ? w[kid] : NONE;
        l2hit = s !== NONE;
        if (l2hit) {
          const set = ((did & g2m) << g2s) | (eB21[id] & i2m), hd = l2H[set];
          if (hd !== s) {
            const p = l2P[s], q = l2N[s];
            l2N[p] = q;
            if (q === NONE) l2T[set] = p;
            else l2P[q] = p;
            l2P[s] = NONE, l2N[s] = hd, l2P[hd] = s, l2H[set] = s;
          }
        }
      } else l2hit = l2c.lruLookup(eB21[id], did, eL2[id], true);
      if (L3.indexed) {
        const kid = eL3[id], w = L3.where, s = kid < w.length ? w[kid] : NONE;
        l3hit = s !== NONE;
        if (l3hit) {
          const set = ((did & g3m) << g3s) | (eB30[id] & i3m), hd = l3H[set];
          if (hd !== s) {
            const p = l3P[s], q = l3N[s];
            l3N[p] = q;
            if (q === NONE) l3T[set] = p;
            else l3P[q] = p;
            l3P[s] = NONE, l3N[s] = hd, l3P[hd] = s, l3H[set] = s;
          }
        }
      } else l3hit = l3c.lruLookup(eB30[id], did, eL3[id], true);
      let lat: number;
      let toIotlb = false;
      if (l2hit) {
        if (lvl === 2) {
          lat = PAGE_HIT + PCIE;
          toIotlb = true;
        } else if (lvl > 2) throw h.lost(id, "L2PAGE");
        else lat = DDR * (2 - lvl);
      } else if (l3hit) {
        if (lvl === 3) {
          lat = PAGE_HIT;
          toIotlb = true;
        } else if (lvl > 3) throw h.lost(id, "L3PAGE");
        else lat = DDR * (3 - lvl);
      } else {
        lat = DDR * (byLevel ? lvl : 4 - lvl);
      }
      eEnd[id] += lat;
      if (toIotlb) {
        if (nd === td.length) td = growF(td), vd = growI(vd);
        pushAt = t + lat - 1;
        if (nd === 0 || !(td[(nd - 1) >> 1] > pushAt)) td[nd] = pushAt, vd[nd] = id;
        else heapPush(td, vd, nd, pushAt, id);
        nd++;
      } else {
        if (nc === tc.length) tc = growF(tc), vc = growI(vc);
        pushAt = t + lat - 1;
        if (nc === 0 || !(tc[(nc - 1) >> 1] > pushAt)) tc[nc] = pushAt, vc[nc] = id;
        else heapPush(tc, vc, nc, pushAt, id);
        nc++;
      }
    }
    // Page fill: allocate in L2PAGE and L3PAGE, then the IOTLB fill after the return trip.
    if (nc > 0 && tc[0] <= t) {
      let id: number;
      if (nc > 2) id = heapPop(tc, vc, nc);
      else {
        id = vc[0];
        if (nc === 2) tc[0] = tc[1], vc[0] = vc[1];
      }
      nc--;
      const did = eDid[id];
      const k2 = eL2[id], set2 = ((did & g2m) << g2s) | (eB21[id] & i2m);
      let r: number;
      if (L2.indexed) {
        const w = L2.where, s = k2 < w.length ? w[k2] : NONE;
        if (s === NONE) r = L2.insert(set2, k2, true);
        else {
          if (l2H[set2] !== s) L2.toFront(set2, s);
          r = ACCESS_HIT;
        }
      } else r = L2.access(set2, k2, true, true);
      l2c.countAccess(set2, did, r, true);
      const k3 = eL3[id], set3 = ((did & g3m) << g3s) | (eB30[id] & i3m);
      if (L3.indexed) {
        const w = L3.where, s = k3 < w.length ? w[k3] : NONE;
        if (s === NONE) r = L3.insert(set3, k3, true);
        else {
          if (l3H[set3] !== s) L3.toFront(set3, s);
          r = ACCESS_HIT;
        }
      } else r = L3.access(set3, k3, true, true);
      l3c.countAccess(set3, did, r, true);
      eEnd[id] += PCIE;
      if (nd === td.length) td = growF(td), vd = growI(vd);
      pushAt = t + PCIE;
      if (nd === 0 || !(td[(nd - 1) >> 1] > pushAt)) td[nd] = pushAt, vd[nd] = id;
      else heapPush(td, vd, nd, pushAt, id);
      nd++;
    }
    // IOTLB fill: a walk fills the prefetch buffer; a demand request allocates in the IOTLB and completes.
    if (nd > 0 && td[0] <= t) {
      let id: number;
      if (nd > 2) id = heapPop(td, vd, nd);
      else {
        id = vd[0];
        if (nd === 2) td[0] = td[1], vd[0] = vd[1];
      }
      nd--;
      const did = eDid[id];
      if (ePf[id]) pf.fillId(did, eIid[id]);
      else {
        const kid = eIid[id], fixed = eFix[id] === 1, set = ((did & igm) << igs) | (eBI[id] & iim);
        let r: number;
        if (fixed && LI.indexed) {
          const w = LI.where, s = kid < w.length ? w[kid] : NONE;
          if (s === NONE) r = LI.insert(set, kid, true);
          else {
            if (liH[set] !== s) LI.toFront(set, s);
            r = ACCESS_HIT;
          }
        } else r = LI.access(set, kid, fixed, true);
        iotlb.countAccess(set, did, r, countAtFill);
        h.complete(id);
      }
      ev.release(id);
    }
    // The next nanosecond where something can happen.
    let next = na > 0 ? ta[0] : Infinity;
    if (nb > 0 && tb[0] < next) next = tb[0];
    if (nc > 0 && tc[0] < next) next = tc[0];
    if (nd > 0 && td[0] < next) next = td[0];
    if (draining) {
      if (h.inFlight === 0) {
        t++;
        done = true;
        break;
      }
      if (next === Infinity) {
        throw new HyperlabError("model", `BUG: ${h.inFlight} translations in flight, none queued`);
      }
      t = next <= t ? t + 1 : next;
    } else {
      if (next <= t) next = t + 1;
      if (h.inFlight >= tqueue) {
        // Until a queue head is ready nothing can change: every slot before it is a dropped packet.
        if (next > slot) {
          const k = Math.floor((next - 1 - slot) / interval) + 1;
          dropped += k;
          slot += k * interval;
        }
        t = next;
      } else {
        t = next < slot ? next : slot;
      }
    }
  }
  s.ta = ta, s.va = va, s.na = na, s.tb = tb, s.vb = vb, s.nb = nb;
  s.tc = tc, s.vc = vc, s.nc = nc, s.td = td, s.vd = vd, s.nd = nd;
  s.t = t, s.slot = slot, s.cycles = cycles, s.dropped = dropped, s.draining = draining;
  return s.done = done;
}

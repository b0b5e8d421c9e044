/**
 * The model's in-flight translation events: a growable struct-of-arrays pool (typed arrays, so the hot path neither
 * allocates nor boxes), with each record's cache key ids and set-index bits derived once when it is read.
 * @module
 */
import { RecordKeys } from "./record_keys.ts";

/** Growable struct-of-arrays pool of in-flight translation events (typed arrays: no boxing on the hot path). */
export class EventPool {
  cap = 0;
  sid = new Uint32Array(0);
  did = new Uint32Array(0);
  iovaHi = new Uint32Array(0);
  iovaLo = new Uint32Array(0);
  maskHi = new Uint32Array(0);
  maskLo = new Uint32Array(0);
  slpteHi = new Uint32Array(0);
  slpteLo = new Uint32Array(0);
  lvl = new Float64Array(0);
  nat = new Float64Array(0);
  start = new Float64Array(0);
  end = new Float64Array(0);
  prefetch = new Uint8Array(0);
  /** Set-index bits: IOTLB (2 MB or 4 KB granularity), L2PAGE (2 MB), L3PAGE (1 GB). */
  bitsIotlb = new Uint32Array(0);
  bits21 = new Uint32Array(0);
  bits30 = new Uint32Array(0);
  /** The IOTLB key (LFU/oracle rows hash it). */
  iotlbKey = new Float64Array(0);
  /** KeyIds ids of the three keys; iotlbFixed = 1 when the IOTLB key alone decides its IOTLB set. */
  iotlbId = new Int32Array(0);
  iotlbFixed = new Uint8Array(0);
  l2Id = new Int32Array(0);
  l3Id = new Int32Array(0);
  /** Stack of released ids (`nFree` of them). */
  free = new Int32Array(256);
  nFree = 0;
  used = 0;
  readonly keys = new RecordKeys();

  /** `iotlbIndexMask`: the IOTLB's set-index bits of `address >> iotlbShift` (Cache.indexMask). */
  constructor(readonly iotlbShift: number, readonly iotlbIndexMask: number) {
    this.#grow(256);
  }

  #grow(cap: number): void {
    const g = <T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      return b;
    };
    this.sid = g(this.sid), this.did = g(this.did), this.iovaHi = g(this.iovaHi), this.iovaLo = g(this.iovaLo);
    this.maskHi = g(this.maskHi), this.maskLo = g(this.maskLo), this.slpteHi = g(this.slpteHi);
    this.slpteLo = g(this.slpteLo), this.lvl = g(this.lvl), this.nat = g(this.nat), this.start = g(this.start);
    this.end = g(this.end), this.prefetch = g(this.prefetch), this.bitsIotlb = g(this.bitsIotlb);
    this.bits21 = g(this.bits21), this.bits30 = g(this.bits30);
    this.iotlbKey = g(this.iotlbKey), this.iotlbId = g(this.iotlbId), this.iotlbFixed = g(this.iotlbFixed);
    this.l2Id = g(this.l2Id), this.l3Id = g(this.l3Id);
    this.cap = cap;
  }

  alloc(): number {
    if (this.nFree > 0) return this.free[--this.nFree];
    if (this.used === this.cap) this.#grow(this.cap * 2);
    return this.used++;
  }

  /** Makes sure the next `k` allocs do not grow the arrays, so a caller may keep references to them until then. */
  reserve(k: number): void {
    if (this.nFree + this.cap - this.used < k) this.#grow(Math.max(this.cap * 2, this.used + k));
  }

  /** Returns `id` to the pool. */
  release(id: number): void {
    if (this.nFree === this.free.length) {
      const f = new Int32Array(this.free.length * 2);
      f.set(this.free);
      this.free = f;
    }
    this.free[this.nFree++] = id;
  }

  /** Derives the cache keys and set-index bits once the fields are set. */
  derive(id: number): void {
    const hi = this.iovaHi[id], lo = this.iovaLo[id], did = this.did[id], mHi = this.maskHi[id], mLo = this.maskLo[id];
    const k = this.keys;
    k.derive(hi, lo, mHi, mLo, did);
    this.iotlbKey[id] = k.iotlbKey, this.iotlbId[id] = k.iotlbId, this.l2Id[id] = k.l2Id, this.l3Id[id] = k.l3Id;
    const s = this.iotlbShift;
    this.bitsIotlb[id] = (lo >>> s) | (hi << (32 - s));
    this.bits21[id] = (lo >>> 21) | (hi << 11);
    this.bits30[id] = (lo >>> 30) | (hi << 2);
    const m = this.iotlbIndexMask, maskBits = ((mLo >>> s) | (mHi << (32 - s))) & m;
    this.iotlbFixed[id] = maskBits === m ? 1 : 0;
  }
}

/**
 * The per-point numbers a sweep records (the full per-set counts stay out of the run record).
 * @module
 */
import type { ModelResult } from "./model.ts";

/** What a sweep keeps of one model run. */
export interface PointSummary {
  elapsedNs: number;
  translations: number;
  droppedPackets: number;
  mbps: number;
  utilization: number;
  iotlbHit: number;
  iotlbMiss: number;
  /** IOTLB hits ÷ (hits + misses). */
  iotlbHitRate: number;
  l2Hit: number;
  l3Hit: number;
  prefetchBufferHit: number;
  /** CPU milliseconds the model took. */
  modelMs: number;
}

/** Summarizes a run. */
export function summarize(r: ModelResult, modelMs: number): PointSummary {
  const i = r.caches.IOTLB;
  return {
    elapsedNs: r.elapsedNs,
    translations: r.translations,
    droppedPackets: r.droppedPackets,
    mbps: r.mbps,
    utilization: r.utilization,
    iotlbHit: i.hit,
    iotlbMiss: i.miss,
    iotlbHitRate: i.hit + i.miss ? i.hit / (i.hit + i.miss) : 0,
    l2Hit: r.caches.L2PAGE.hit,
    l3Hit: r.caches.L3PAGE.hit,
    prefetchBufferHit: r.prefetcher.bufferHit,
    modelMs,
  };
}

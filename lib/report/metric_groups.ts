/**
 * Groups a run's metric samples into series: one per metric name and tag set (repetition and warm-up tags aside),
 * with statistics over the measured (non-warm-up) samples.
 * @module
 */
import { type MetricStats, stats } from "../results/compare.ts";
import type { MetricRow } from "../results/types.ts";

/** Samples of one metric under one tag set. */
export interface MetricGroup {
  /** `name{tag=value,…}` */
  key: string;
  name: string;
  unit: string | null;
  tags: Record<string, string>;
  /** Measured samples in recording order. */
  values: number[];
  /** Warm-up samples (tagged `warmup=true`). */
  warmups: number[];
  /** Statistics of `values` (null when all samples were warm-ups). */
  stats: MetricStats | null;
}

const IGNORED = new Set(["rep", "repetition", "warmup"]);

/** Groups samples by name and tags (ignoring `rep`, `repetition`, `warmup`). */
export function groupMetrics(samples: MetricRow[]): MetricGroup[] {
  const groups = new Map<string, MetricGroup>();
  for (const s of samples) {
    const tags = Object.fromEntries(Object.entries(s.tags).filter(([k]) => !IGNORED.has(k)).sort());
    const t = Object.entries(tags);
    const key = t.length ? `${s.name}{${t.map(([k, v]) => `${k}=${v}`).join(",")}}` : s.name;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { key, name: s.name, unit: s.unit, tags, values: [], warmups: [], stats: null });
    (s.tags.warmup === "true" ? g.warmups : g.values).push(s.value);
  }
  for (const g of groups.values()) g.stats = g.values.length ? stats(g.values) : null;
  return [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
}

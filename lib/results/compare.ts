/**
 * Compares metrics across runs: per metric (name + unit + tags) the mean of its samples in each run, a 95%
 * confidence interval when a run has repeated samples, the relative difference of the last run against the first,
 * and whether the difference is beyond noise (intervals do not overlap).
 * @module
 */
import type { ResultsStore } from "./store.ts";

/** Statistics of one metric in one run. */
export interface MetricStats {
  n: number;
  mean: number;
  stddev: number;
  /** Half-width of the 95% confidence interval (t-distribution); 0 with one sample. */
  ci95: number;
}

/** One compared metric. */
export interface CompareRow {
  metric: string;
  unit: string | null;
  cells: (MetricStats | null)[];
  deltaPct: number | null;
  /** True when the first and last intervals do not overlap; null when either has a single sample. */
  significant: boolean | null;
}

/** Result of a comparison. */
export interface Comparison {
  runs: number[];
  rows: CompareRow[];
}

const T95 = [
  12.706,
  4.303,
  3.182,
  2.776,
  2.571,
  2.447,
  2.365,
  2.306,
  2.262,
  2.228,
  2.201,
  2.179,
  2.16,
  2.145,
  2.131,
  2.12,
  2.11,
  2.101,
  2.093,
  2.086,
  2.08,
  2.074,
  2.069,
  2.064,
  2.06,
  2.056,
  2.052,
  2.048,
  2.045,
  2.042,
];

/** Two-sided 95% t quantile for `df` degrees of freedom. */
export function t95(df: number): number {
  if (df <= 0) return NaN;
  return df <= T95.length ? T95[df - 1] : 1.96 + 2.4 / df;
}

/** Mean, sample standard deviation and 95% CI half-width of samples. */
export function stats(values: number[]): MetricStats {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  const stddev = Math.sqrt(variance);
  return { n, mean, stddev, ci95: n > 1 ? t95(n - 1) * stddev / Math.sqrt(n) : 0 };
}

function keyOf(name: string, tags: Record<string, string>): string {
  const t = Object.entries(tags).filter(([k]) => k !== "rep" && k !== "repetition").sort();
  return t.length ? `${name}{${t.map(([k, v]) => `${k}=${v}`).join(",")}}` : name;
}

/** Compares the metrics of `runIds` (first = baseline). */
export function compareRuns(store: ResultsStore, runIds: number[]): Comparison {
  const perRun = runIds.map((id) => {
    const m = new Map<string, { unit: string | null; values: number[] }>();
    for (const s of store.metrics(id)) {
      if (s.tags.warmup === "true") continue;
      const k = keyOf(s.name, s.tags);
      const e = m.get(k) ?? { unit: s.unit, values: [] };
      e.values.push(s.value);
      m.set(k, e);
    }
    return m;
  });
  const names = [...new Set(perRun.flatMap((m) => [...m.keys()]))].sort();
  const rows = names.map((metric) => {
    const cells = perRun.map((m) => (m.has(metric) ? stats(m.get(metric)!.values) : null));
    const unit = perRun.find((m) => m.has(metric))!.get(metric)!.unit;
    const first = cells[0];
    const last = cells[cells.length - 1];
    const deltaPct = first && last && first.mean !== 0 ? ((last.mean - first.mean) / Math.abs(first.mean)) * 100 : null;
    const significant = first && last && first.n > 1 && last.n > 1
      ? first.mean + first.ci95 < last.mean - last.ci95 || last.mean + last.ci95 < first.mean - first.ci95
      : null;
    return { metric, unit, cells, deltaPct, significant };
  });
  return { runs: runIds, rows };
}

/** Exports of run records. */
import type { MetricRow } from "./types.ts";

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Metric samples as CSV: ts, name, value, unit, tags (JSON). */
export function metricsCsv(metrics: MetricRow[]): string {
  const lines = ["ts,name,value,unit,tags"];
  for (const m of metrics) {
    lines.push([new Date(m.ts).toISOString(), m.name, m.value, m.unit, JSON.stringify(m.tags)].map(csvCell).join(","));
  }
  return lines.join("\n") + "\n";
}

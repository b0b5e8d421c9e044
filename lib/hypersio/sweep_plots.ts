/**
 * The explorer's plots as SVG (drawn with lib/plot): utilization vs tenants with one line per configuration, and
 * IOTLB hit rate vs IOTLB size with one line per configuration.
 * @module
 */
import { lineChart, type Series } from "../plot/mod.ts";
import type { PointResult, SweepPoint } from "./sweep.ts";

/** Label of a point without the fields in `omit`, showing only fields that vary in the sweep. */
function label(p: SweepPoint, omit: string[], varying: Set<string>): string {
  const parts = Object.entries(p).filter(([k]) => !omit.includes(k) && varying.has(k)).map(([k, v]) => `${k}=${v}`);
  return parts.join(" ") || "default";
}

function seriesBy(points: PointResult[], xField: keyof SweepPoint, y: (r: PointResult) => number): Series[] {
  const varying = new Set<string>();
  for (const k of Object.keys(points[0]?.point ?? {}) as (keyof SweepPoint)[]) {
    if (new Set(points.map((r) => String(r.point[k]))).size > 1) varying.add(k);
  }
  const by = new Map<string, [number, number][]>();
  for (const r of points) {
    const name = label(r.point, [xField], varying);
    if (!by.has(name)) by.set(name, []);
    by.get(name)!.push([Number(r.point[xField]), y(r)]);
  }
  return [...by].map(([name, pts]) => ({ name, points: pts.sort((a, b) => a[0] - b[0]) }));
}

/** Utilization (%) vs tenants, one line per configuration. */
export function utilizationPlot(points: PointResult[]): string {
  return lineChart({
    title: "Link utilization vs tenants",
    xLabel: "tenants",
    yLabel: "utilization %",
    series: seriesBy(points, "tenants", (r) => 100 * r.summary.utilization),
  });
}

/** IOTLB hit rate (%) vs IOTLB entries, one line per configuration. */
export function hitRatePlot(points: PointResult[]): string {
  return lineChart({
    title: "IOTLB hit rate vs IOTLB size",
    xLabel: "IOTLB entries",
    yLabel: "hit rate %",
    series: seriesBy(points, "iotlbSize", (r) => 100 * r.summary.iotlbHitRate),
  });
}

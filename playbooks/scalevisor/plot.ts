/**
 * The Scalevisor curve: kmeans wall-clock runtime vs local-memory ratio, one line per swap target (remote memory
 * over NBD, local disk image), and the all-local baseline drawn flat across the swept ratios.
 * @module
 */
import { lineChart, type Series } from "../../lib/plot/mod.ts";

/** One measured point of the sweep. */
export interface CurvePoint {
  ratio: number;
  swap: "remote" | "local-disk";
  wallSeconds: number;
}

/** Renders the runtime-vs-ratio chart as a standalone SVG. */
export function runtimeChart(points: CurvePoint[], baselineSeconds: number, opts: { merge: boolean }): string {
  const ratios = [...new Set(points.map((p) => p.ratio))].sort((a, b) => a - b);
  const line = (swap: CurvePoint["swap"]): [number, number][] =>
    points.filter((p) => p.swap === swap).sort((a, b) => a.ratio - b.ratio).map((p) => [p.ratio, p.wallSeconds]);
  const series: Series[] = [
    { name: `remote swap, merge ${opts.merge ? "on" : "off"}`, points: line("remote") },
  ];
  const local = line("local-disk");
  if (local.length) series.push({ name: "local disk swap", points: local });
  const span = ratios.length > 1 ? ratios : [Math.min(ratios[0] ?? 1, 0.9), 1];
  series.push({ name: "all memory local", points: span.map((r) => [r, baselineSeconds]) });
  return lineChart({
    title: "kmeans runtime vs local-memory ratio (TCG guest; rmem over TCP, NBD swap disk)",
    // legend names stay short (the legend is 160 px wide)
    xLabel: "local memory / working set",
    yLabel: "wall-clock (s)",
    series,
    width: 760,
  });
}

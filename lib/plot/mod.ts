/**
 * Small dependency-free SVG plots rendered at build time (no network, no browser needed to draw them):
 * line charts, bar charts with error bars, and timelines. Each returns a standalone `<svg>` string.
 *
 * ```ts
 * import { lineChart } from "./lib/plot/mod.ts";
 * const svg = lineChart({ title: "latency", series: [{ name: "p50", points: [[1, 3], [2, 4]] }] });
 * ```
 * @module
 */
export { type Bar, barChart, type BarChartSpec } from "./bar_chart.ts";
export { lineChart, type LineChartSpec, type Series } from "./line_chart.ts";
export { type LinearScale, linearScale, niceTicks, tickLabel } from "./scale.ts";
export { el, esc, PALETTE, svgDoc } from "./svg.ts";
export { type Interval, timeline } from "./timeline.ts";

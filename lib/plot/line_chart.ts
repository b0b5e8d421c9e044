/** Line chart (one or more series of x/y points) as a standalone SVG string. */
import { type Frame, legend, xAxis, yAxis } from "./axes.ts";
import { linearScale } from "./scale.ts";
import { el, esc, n2, PALETTE, svgDoc } from "./svg.ts";

/** One line. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** What to draw. */
export interface LineChartSpec {
  title: string;
  series: Series[];
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Draw a dot per point (default true when a series has ≤ 200 points). */
  dots?: boolean;
}

/** Renders a line chart. Non-finite points are skipped. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 320;
  const legendW = spec.series.length > 1 ? 160 : 0;
  const f: Frame = { left: 60, top: 28, right: width - 16 - legendW, bottom: height - 44 };
  const pts = spec.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const x = linearScale(pts.map((p) => p[0]), f.left, f.right);
  const y = linearScale(pts.map((p) => p[1]), f.bottom, f.top);
  let body = yAxis(y, f, spec.yLabel) + xAxis(x, f, spec.xLabel);
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const p = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    if (p.length > 1) {
      const d = p.map(([a, b], j) => `${j ? "L" : "M"}${n2(x(a))},${n2(y(b))}`).join("");
      body += el("path", { d, fill: "none", stroke: color, "stroke-width": 1.8 });
    }
    if (spec.dots ?? p.length <= 200) {
      for (const [a, b] of p) {
        body += el(
          "circle",
          { cx: x(a), cy: y(b), r: 2.6, fill: color },
          `<title>${esc(`${s.name}: ${a}, ${b}`)}</title>`,
        );
      }
    }
  });
  if (legendW) body += legend(spec.series.map((s) => s.name), PALETTE, width, f.top + 10);
  return svgDoc(width, height, spec.title, body);
}

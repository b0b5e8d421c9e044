/** Bar chart with optional error bars (e.g. mean ± 95% CI) as a standalone SVG string. */
import { type Frame, yAxis } from "./axes.ts";
import { linearScale } from "./scale.ts";
import { el, esc, PALETTE, svgDoc } from "./svg.ts";

/** One bar. `err` is the half-width of its error bar. */
export interface Bar {
  label: string;
  value: number;
  err?: number;
}

/** What to draw. */
export interface BarChartSpec {
  title: string;
  bars: Bar[];
  yLabel?: string;
  width?: number;
  height?: number;
}

/** Renders a bar chart; the value axis includes zero. */
export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? Math.max(320, 90 + spec.bars.length * 70);
  const height = spec.height ?? 320;
  const f: Frame = { left: 60, top: 28, right: width - 16, bottom: height - 60 };
  const extent = spec.bars.flatMap((b) => [b.value - (b.err ?? 0), b.value + (b.err ?? 0)]);
  const y = linearScale(extent, f.bottom, f.top, { zero: true });
  let body = yAxis(y, f, spec.yLabel);
  const slot = (f.right - f.left) / Math.max(1, spec.bars.length);
  spec.bars.forEach((b, i) => {
    const cx = f.left + slot * (i + 0.5);
    const w = Math.min(48, slot * 0.6);
    const y0 = y(0);
    const yv = y(b.value);
    body += el("rect", {
      x: cx - w / 2,
      y: Math.min(y0, yv),
      width: w,
      height: Math.max(1, Math.abs(y0 - yv)),
      fill: PALETTE[i % PALETTE.length],
    }, `<title>${esc(`${b.label}: ${b.value}${b.err ? ` ± ${b.err}` : ""}`)}</title>`);
    if (b.err) {
      const hi = y(b.value + b.err);
      const lo = y(b.value - b.err);
      body += el("line", { x1: cx, x2: cx, y1: hi, y2: lo, stroke: "#222", "stroke-width": 1.4 });
      body += el("line", { x1: cx - 6, x2: cx + 6, y1: hi, y2: hi, stroke: "#222", "stroke-width": 1.4 });
      body += el("line", { x1: cx - 6, x2: cx + 6, y1: lo, y2: lo, stroke: "#222", "stroke-width": 1.4 });
    }
    const label = b.label.length > 14 ? b.label.slice(0, 13) + "…" : b.label;
    body += el("text", {
      x: cx,
      y: f.bottom + 14,
      "text-anchor": "end",
      transform: `rotate(-30 ${cx} ${f.bottom + 14})`,
      fill: "#333",
    }, esc(label));
  });
  body += el("line", { x1: f.left, x2: f.right, y1: y(0), y2: y(0), stroke: "#333" });
  return svgDoc(width, height, spec.title, body);
}

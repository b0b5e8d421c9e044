/** Timeline (Gantt) of intervals, e.g. a run's steps, as a standalone SVG string. */
import { type Frame, xAxis } from "./axes.ts";
import { linearScale } from "./scale.ts";
import { el, esc, svgDoc } from "./svg.ts";

/** One interval. Times in ms; `end` null means still open (drawn to the latest time). */
export interface Interval {
  label: string;
  start: number;
  end: number | null;
  /** Colour key: ok, failed, interrupted, skipped, running. */
  status?: string;
  /** Nesting depth (indents the label). */
  depth?: number;
}

const STATUS_COLOR: Record<string, string> = {
  ok: "#009E73",
  failed: "#D55E00",
  interrupted: "#E69F00",
  skipped: "#999999",
  running: "#56B4E9",
};

/** Renders intervals as rows against time since the first start (seconds). */
export function timeline(spec: { title: string; intervals: Interval[]; width?: number }): string {
  const rows = spec.intervals;
  const width = spec.width ?? 760;
  const rowH = 18;
  const height = 70 + rows.length * rowH;
  const f: Frame = { left: 200, top: 28, right: width - 16, bottom: 28 + rows.length * rowH + 4 };
  const t0 = rows.length ? Math.min(...rows.map((r) => r.start)) : 0;
  const tEnd = rows.length ? Math.max(...rows.map((r) => r.end ?? r.start)) : 1;
  const x = linearScale([0, (tEnd - t0) / 1000], f.left, f.right);
  let body = xAxis(x, f, "seconds since start");
  rows.forEach((r, i) => {
    const y = f.top + i * rowH + 3;
    const a = x((r.start - t0) / 1000);
    const b = x(((r.end ?? tEnd) - t0) / 1000);
    const label = `${"  ".repeat(r.depth ?? 0)}${r.label}`;
    body += el(
      "text",
      { x: f.left - 6, y: y + 11, "text-anchor": "end", fill: "#333", "xml:space": "preserve" },
      esc(label.length > 32 ? label.slice(0, 31) + "…" : label),
    );
    const dur = r.end === null ? "open" : `${((r.end - r.start) / 1000).toFixed(3)} s`;
    body += el("rect", {
      x: a,
      y,
      width: Math.max(2, b - a),
      height: rowH - 5,
      fill: STATUS_COLOR[r.status ?? "ok"] ?? "#0072B2",
    }, `<title>${esc(`${r.label}: ${r.status ?? ""} ${dur}`)}</title>`);
  });
  return svgDoc(width, height, spec.title, body);
}

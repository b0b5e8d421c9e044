/** Axes, grid lines and labels shared by the charts. */
import { type LinearScale, tickLabel } from "./scale.ts";
import { el, esc } from "./svg.ts";

/** Plot area inside a chart. */
export interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Y axis with horizontal grid lines and an optional label. */
export function yAxis(y: LinearScale, f: Frame, label?: string): string {
  let s = "";
  for (const t of y.ticks) {
    const py = y(t);
    s += el("line", { x1: f.left, x2: f.right, y1: py, y2: py, stroke: "#e5e5e5" });
    s += el("text", { x: f.left - 6, y: py + 4, "text-anchor": "end", fill: "#333" }, esc(tickLabel(t)));
  }
  s += el("line", { x1: f.left, x2: f.left, y1: f.top, y2: f.bottom, stroke: "#333" });
  if (label) {
    const cy = (f.top + f.bottom) / 2;
    s += el(
      "text",
      { x: 14, y: cy, transform: `rotate(-90 14 ${cy})`, "text-anchor": "middle", fill: "#333" },
      esc(label),
    );
  }
  return s;
}

/** X axis for a numeric scale, with an optional label. */
export function xAxis(x: LinearScale, f: Frame, label?: string): string {
  let s = el("line", { x1: f.left, x2: f.right, y1: f.bottom, y2: f.bottom, stroke: "#333" });
  for (const t of x.ticks) {
    const px = x(t);
    s += el("line", { x1: px, x2: px, y1: f.bottom, y2: f.bottom + 4, stroke: "#333" });
    s += el("text", { x: px, y: f.bottom + 16, "text-anchor": "middle", fill: "#333" }, esc(tickLabel(t)));
  }
  if (label) {
    s += el("text", { x: (f.left + f.right) / 2, y: f.bottom + 32, "text-anchor": "middle", fill: "#333" }, esc(label));
  }
  return s;
}

/** A legend row of coloured swatches with names, at the top right. */
export function legend(names: string[], colors: readonly string[], right: number, top: number): string {
  let s = "";
  names.forEach((name, i) => {
    const y = top + i * 14;
    s += el("rect", { x: right - 150, y: y - 8, width: 10, height: 10, fill: colors[i % colors.length] });
    s += el("text", { x: right - 136, y, fill: "#333" }, esc(name.length > 24 ? name.slice(0, 23) + "…" : name));
  });
  return s;
}

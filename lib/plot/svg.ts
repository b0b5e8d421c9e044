/** Small helpers to build SVG text safely. */

/** Escapes text for XML content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** Formats a number for coordinates (two decimals at most). */
export function n2(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** Builds an element: `el("rect", { x: 1 })` → `<rect x="1"/>`; attributes with undefined values are left out. */
export function el(name: string, attrs: Record<string, string | number | undefined>, body?: string): string {
  const a = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) =>
    ` ${k}="${esc(typeof v === "number" ? n2(v) : v!)}"`
  ).join("");
  return body === undefined ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`;
}

/** A colour-blind-friendly categorical palette (Okabe–Ito). */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#000000",
];

/** Wraps chart content in a standalone `<svg>` with a title. */
export function svgDoc(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="11" role="img" aria-label="${esc(title)}">` +
    el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }) +
    el("text", { x: width / 2, y: 16, "text-anchor": "middle", "font-size": 13, "font-weight": "bold" }, esc(title)) +
    body + `</svg>`;
}

/** Minimal PNG reader for screenshot checks: 8-bit RGB/RGBA, non-interlaced (what Chromium writes). */
import { inflateSync } from "node:zlib";

/** Decoded pixels (RGBA, 4 bytes per pixel). */
export interface Image {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Decodes a PNG; throws on formats it does not handle. */
export function decodePng(bytes: Uint8Array): Image {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== 0x89504e47) throw new Error("not a PNG");
  let off = 8;
  let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat: Uint8Array[] = [];
  while (off < bytes.length) {
    const len = dv.getUint32(off);
    const kind = new TextDecoder().decode(bytes.subarray(off + 4, off + 8));
    const data = bytes.subarray(off + 8, off + 8 + len);
    if (kind === "IHDR") {
      const h = new DataView(data.buffer, data.byteOffset, data.byteLength);
      [width, height, depth, type, interlace] = [h.getUint32(0), h.getUint32(4), data[8], data[9], data[12]];
    } else if (kind === "IDAT") idat.push(data);
    else if (kind === "IEND") break;
    off += 12 + len;
  }
  if (depth !== 8 || (type !== 2 && type !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${type}, interlace ${interlace}`);
  }
  const bpp = type === 6 ? 4 : 3;
  const raw = new Uint8Array(inflateSync(concat(idat)));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      const x = line[i];
      cur[i] = f === 0 ? x : f === 1 ? x + a : f === 2 ? x + b : f === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c);
    }
    for (let px = 0; px < width; px++) {
      out.set(
        [cur[px * bpp], cur[px * bpp + 1], cur[px * bpp + 2], bpp === 4 ? cur[px * bpp + 3] : 255],
        (y * width + px) * 4,
      );
    }
    prev.set(cur);
  }
  return { width, height, rgba: out };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}

/** Fraction of pixels that are not (near) white, and the number of pixels within `tol` of each colour given. */
export function pixelStats(img: Image, colors: Record<string, string>, tol = 24): {
  nonWhite: number;
  luminanceStddev: number;
  matches: Record<string, number>;
} {
  const targets = Object.entries(colors).map(([k, hex]) =>
    [k, parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)] as const
  );
  const matches: Record<string, number> = Object.fromEntries(targets.map(([k]) => [k, 0]));
  let nonWhite = 0, sum = 0, sum2 = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const r = img.rgba[i * 4], g = img.rgba[i * 4 + 1], b = img.rgba[i * 4 + 2];
    if (r < 240 || g < 240 || b < 240) nonWhite++;
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += l;
    sum2 += l * l;
    for (const [k, tr, tg, tb] of targets) {
      if (Math.abs(r - tr) <= tol && Math.abs(g - tg) <= tol && Math.abs(b - tb) <= tol) matches[k]++;
    }
  }
  const mean = sum / n;
  return { nonWhite: nonWhite / n, luminanceStddev: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), matches };
}

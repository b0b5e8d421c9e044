/** CPU lists as Xen tools write them (`0-3,6`) and the bitmaps libxenctrl takes. */
import { InputError } from "../core/errors.ts";

/** Parses `0-3,6` (or `all` given `nrCpus`) into sorted CPU numbers. Throws InputError naming `field`. */
export function parseCpuList(s: string, field = "cpus", nrCpus?: number): number[] {
  if (s === "all" && nrCpus !== undefined) return Array.from({ length: nrCpus }, (_, i) => i);
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) throw new InputError(field, "a CPU list like 0-3,6", s);
  const out = new Set<number>();
  for (const part of s.split(",")) {
    const [a, b] = part.split("-").map(Number);
    const end = b ?? a;
    if (end < a) throw new InputError(field, "ranges low-high", s);
    if (end - a > 4096) throw new InputError(field, "at most 4096 CPUs per range", s);
    for (let i = a; i <= end; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Formats CPU numbers compactly: [0,1,2,3,6] → `0-3,6`. */
export function formatCpuList(cpus: readonly number[]): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; i++) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j;
  }
  return parts.join(",");
}

/** Bitmap of `size` bytes with the given CPUs set. */
export function cpusToMap(cpus: readonly number[], size: number): Uint8Array<ArrayBuffer> {
  const map = new Uint8Array(size);
  for (const c of cpus) {
    if (c >= size * 8) throw new InputError("cpus", `CPU numbers below ${size * 8}`, c);
    map[c >> 3] |= 1 << (c & 7);
  }
  return map;
}

/** CPUs set in a bitmap. */
export function mapToCpus(map: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < map.length * 8; i++) if (map[i >> 3] & (1 << (i & 7))) out.push(i);
  return out;
}

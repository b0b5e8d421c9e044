/** Parses byte sizes as people write them: `4096`, `64K`, `512M`, `2G` (powers of 1024). */
import { InputError } from "../core/errors.ts";

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Bytes of a size string; throws InputError naming `field` when it is not one. */
export function parseSize(text: string, field: string): number {
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new InputError(field, "a size like 4096, 64K, 512M or 2G", text);
  const n = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(n) || n <= 0) throw new InputError(field, "a positive size", text);
  return n;
}

/**
 * `/proc/popcorn_stat`: Popcorn's per-host message counters. The format is not documented; lines that read as
 * `<name> <number>` or `<name>: <number>` become counters, the raw text is kept as an artifact.
 * @module
 */

/** Counters read from popcorn_stat text, by name (spaces in names become `_`). */
export function parsePopcornStat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][\w .\-/]*?)\s*[:=]?\s+(-?\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m) out[m[1].trim().replace(/\s+/g, "_")] = Number(m[2]);
  }
  return out;
}

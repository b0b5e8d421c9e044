/** Real memory use of this process from /proc/self/smaps_rollup (PSS counts a page shared by N mappings as 1/N). */
import { readFileSync } from "node:fs";

/** Memory of this process in bytes. */
export interface ProcessMemory {
  rss: number;
  /** Proportional set size: each physical page counted once across the mappings sharing it. */
  pss: number;
  pssAnon: number;
  pssShmem: number;
}

/** Reads /proc/self/smaps_rollup. */
export function processMemory(): ProcessMemory {
  const text = readFileSync("/proc/self/smaps_rollup", "utf8");
  const kb = (key: string) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0) * 1024;
  return { rss: kb("Rss"), pss: kb("Pss"), pssAnon: kb("Pss_Anon"), pssShmem: kb("Pss_Shmem") };
}

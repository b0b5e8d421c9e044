/**
 * Host CPU load from two `/proc/stat` samples: the fraction of CPU time that was busy in between. Used to show
 * that a benchmark pinned to vCPU i loads the node that owns vCPU i.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** Jiffies of the aggregate `cpu` line. */
export interface CpuSample {
  busy: number;
  total: number;
}

/** Parses the `cpu  user nice system idle iowait irq softirq steal …` line. */
export function parseCpuLine(text: string): CpuSample {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new InputError("/proc/stat", "a line starting with `cpu `", text.slice(0, 60));
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 4 || v.some((x) => !Number.isFinite(x))) throw new InputError("/proc/stat cpu line", "numbers", line);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = v[3] + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy fraction (0..1) between two samples. */
export function busyFraction(a: CpuSample, b: CpuSample): number {
  const dt = b.total - a.total;
  return dt <= 0 ? 0 : Math.max(0, Math.min(1, (b.busy - a.busy) / dt));
}

/** Index of the busiest host (ties: the first). */
export function busiest(loads: readonly number[]): number {
  let best = 0;
  loads.forEach((l, i) => {
    if (l > loads[best]) best = i;
  });
  return best;
}

/**
 * CPU time of a process from `/proc/<pid>/stat` (utime + stime, in clock ticks). On lab nodes every namespace
 * shares the host's CPUs, so a node's "load" is the CPU time of that node's own processes (its QEMU).
 * @module
 */
import { InputError } from "../core/errors.ts";

/** Clock ticks per second on Linux x86-64 (USER_HZ). */
export const USER_HZ = 100;

/** utime + stime of a `/proc/<pid>/stat` line, in seconds. */
export function parseProcStatCpu(text: string): number {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new InputError("/proc/<pid>/stat", "a line `pid (comm) state …`", text.slice(0, 60));
  const f = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(f[11]), stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new InputError("/proc/<pid>/stat", "utime and stime fields", text.slice(0, 80));
  }
  return (utime + stime) / USER_HZ;
}

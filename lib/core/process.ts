/** Process liveness on this host. */

/**
 * True when process `pid` exists and is not a zombie (read from /proc, so no signal is sent; a zombie counts as
 * gone because PID 1 here may not reap daemons' children).
 */
export function processAlive(pid: number | null | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

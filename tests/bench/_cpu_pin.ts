/**
 * CPU placement for latency benchmarks on small machines: which CPU a woken process runs on (the waker's, or an idle
 * one that must first leave its halt state) can change a loopback round trip several-fold, so both sides of a
 * comparison get the same placement. Uses `taskset` (util-linux) on every thread of a process.
 * @module
 */

/** CPUs this process may use. */
export const cpuCount = (): number => navigator.hardwareConcurrency;

/** Restricts every thread of `pid` to `cpus` (a taskset list such as "1" or "0-1"); false when taskset fails. */
export async function pinProcess(pid: number, cpus: string): Promise<boolean> {
  const o = await new Deno.Command("taskset", {
    args: ["-a", "-c", "-p", cpus, String(pid)],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => null);
  return o?.success ?? false;
}

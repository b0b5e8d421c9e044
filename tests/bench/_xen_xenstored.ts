/**
 * The Xen column of the `xenstore` benchmark: boots the Xen lab host (Xen 4.17 + dom0 in QEMU, TCG here), runs the
 * same measurements inside dom0 against Xen's own xenstored (tests/integration/xenlab/_dom0_xsbench.ts) and stops
 * the host. Returns the numbers, or why they were not measured.
 */
import { formatError } from "../../lib/core/errors.ts";
import { startXenHost } from "../../lib/lab/xen_host_mod.ts";

/** What dom0 measured against Xen's xenstored. */
export interface XenXenstoredNumbers {
  syncRead: number;
  asyncRead: number;
  asyncWrite: number;
  wireRead: number;
  watchP50: number;
  watchP90: number;
  watchP99: number;
  cliMs: number;
  /** QEMU start → dom0 ready, ms. */
  bootReadyMs: number;
}

/** Boots the lab host and measures; a string says why not (e.g. QEMU missing). */
export async function measureXenXenstored(
  phaseMs: number,
  samples: number,
  cliCalls: number,
): Promise<XenXenstoredNumbers | string> {
  let host;
  try {
    host = await startXenHost({ name: "xenbench", cpus: 2, numaNodes: 1 });
  } catch (e) {
    return `not measured (Xen lab host did not boot: ${formatError(e).split("\n")[0]})`;
  }
  try {
    const r = await host.deno("tests/integration/xenlab/_dom0_xsbench.ts", [
      String(phaseMs),
      String(samples),
      String(cliCalls),
    ]);
    const line = r.stdout.split("\n").find((l) => l.startsWith("HYPERLAB_XSBENCH "));
    if (r.code !== 0 || !line) {
      return `not measured (dom0 run failed: ${r.stderr.trim().split("\n").slice(-1)[0] ?? `exit ${r.code}`})`;
    }
    return { ...JSON.parse(line.slice("HYPERLAB_XSBENCH ".length)), bootReadyMs: host.bootTimes.readyMs ?? NaN };
  } finally {
    await host.stop();
  }
}

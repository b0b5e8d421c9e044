/**
 * Step 4 verification: run the benchmark in the guest pinned to each vCPU in turn (`taskset 0x1, 0x2, …`) while
 * sampling every host's CPU load, and check that the load lands on the node owning that vCPU.
 * @module
 */
import { currentRun } from "../core/ambient.ts";
import type { Cluster } from "../remote/mod.ts";
import { shQuote } from "../remote/mod.ts";
import { CPU_SAMPLE_COMMAND } from "./commands.ts";
import { busiest, busyFraction, parseCpuLine } from "./cpu_load.ts";
import type { GuestShell } from "./guest_shell.ts";
import type { FragvisorConfig } from "./params.ts";
import { tasksetMask } from "./vcpu_layout.ts";

/** Result of one pinned run. */
export interface PinnedRun {
  vcpu: number;
  mask: string;
  /** Node that owns the vCPU. */
  owner: string;
  /** Busy fraction of every host during the run, in node order. */
  loads: number[];
  /** Node with the highest load. */
  busiest: string;
  ok: boolean;
  seconds: number;
}

async function sampleAll(cluster: Cluster) {
  const r = await cluster.run({ cmd: CPU_SAMPLE_COMMAND }, { stream: false, timeout: 15_000 });
  return r.outcomes.map((o) =>
    o.status === "ok" && !o.value.dryRun ? parseCpuLine(o.value.stdout) : { busy: 0, total: 0 }
  );
}

/** Runs the pinned benchmark once per vCPU. */
export async function verifyPlacement(cluster: Cluster, cfg: FragvisorConfig, guest: GuestShell): Promise<PinnedRun[]> {
  const out: PinnedRun[] = [];
  for (let vcpu = 0; vcpu < cfg.layout.total; vcpu++) {
    const mask = tasksetMask(vcpu);
    const before = await sampleAll(cluster);
    const t0 = performance.now();
    const r = await guest.exec(`taskset ${mask} ${cfg.benchmark.split(/\s+/).map(shQuote).join(" ")}`);
    const seconds = (performance.now() - t0) / 1000;
    const after = await sampleAll(cluster);
    if (currentRun()?.dryRun) continue;
    const loads = before.map((b, i) => busyFraction(b, after[i]));
    const owner = cfg.nodeNames[cfg.layout.owner[vcpu]];
    const top = cfg.nodeNames[busiest(loads)];
    out.push({ vcpu, mask, owner, loads, busiest: top, ok: r.code === 0 && top === owner, seconds });
  }
  return out;
}

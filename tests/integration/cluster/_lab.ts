/** Shared set-up of the cluster integration tests: one private lab per test file, always torn down. */
import { labDown, type LabState, labUp } from "../../../lib/lab/lab_nodes.ts";
import { needCommand, needRoot } from "../../_helpers.ts";

/** Why the lab tests cannot run here, or null. */
export function labSkipReason(): string | null {
  return needRoot() ?? needCommand("ip", "iproute2") ?? needCommand("sshd", "openssh-server") ??
    needCommand("ssh-keygen", "openssh-client") ?? needCommand("setsid", "util-linux");
}

/** Brings up a private lab (own prefix, subnet and directory), runs `fn`, and removes the lab even on failure. */
export async function withLab(
  prefix: string,
  subnet: number,
  nodes: number,
  fn: (lab: LabState) => Promise<void>,
): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: `hyperlab-${prefix}-` });
  const opts = { dir, prefix, subnet };
  try {
    await labDown(opts); // leftovers of an earlier crashed run
    const lab = await labUp(nodes, opts);
    await fn(lab);
  } finally {
    await labDown(opts);
  }
}

/** PIDs of processes whose command line contains `marker` (to prove nothing was orphaned). */
export function processesMatching(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(marker) && Number(e.name) !== Deno.pid) out.push(Number(e.name));
    } catch { /* exited */ }
  }
  return out;
}

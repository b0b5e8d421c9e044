/**
 * Step 1 and the restart: install host kernels on every node in parallel (origin keeps the origin define), reboot
 * and wait for SSH; or power-cycle every host over IPMI and wait for SSH (restart is not supported in place).
 * @module
 */
import type { Cluster } from "../remote/mod.ts";
import { hostKernelCommand, rebootCommand } from "./commands.ts";
import type { FragvisorConfig } from "./params.ts";
import { bmcPowerCycle, type PowerCycle } from "./power.ts";
import { bootId, waitForNewBoot, waitForSsh } from "./reboot.ts";

/** Builds and installs each node's host kernel (in parallel; the first failing node stops the others, named). */
export async function installHostKernels(cluster: Cluster, cfg: FragvisorConfig): Promise<void> {
  await cluster.each((node) =>
    node.run({ cmd: hostKernelCommand(cfg, cfg.nodeNames.indexOf(node.name)) }, {
      timeout: 7_200_000,
    })
  );
}

/** Reboots every node and waits until each answers with a new boot id. */
export async function rebootAll(cluster: Cluster, cfg: FragvisorConfig): Promise<void> {
  await cluster.each(async (node) => {
    const before = await bootId(node);
    await node.run({ cmd: rebootCommand(cfg) }, { timeout: 30_000, check: false });
    await waitForNewBoot(node, before, cfg.rebootTimeoutMs);
  });
}

/**
 * Power-cycles every host (through its BMC by default) and waits until each answers over SSH again — with a new
 * boot id (`restartCheck: "boot-id"`, real hosts) or just answering (`"ssh"`, stand-ins whose kernel does not
 * reboot, e.g. lab nodes behind ipmi_sim).
 */
export async function powerCycleAll(
  cluster: Cluster,
  cfg: FragvisorConfig,
  cycle: PowerCycle = bmcPowerCycle,
): Promise<void> {
  await cluster.each(async (node) => {
    const before = cfg.restartCheck === "boot-id" ? await bootId(node) : "";
    await cycle(node);
    if (cfg.restartCheck === "boot-id") await waitForNewBoot(node, before, cfg.rebootTimeoutMs);
    else await waitForSsh(node, cfg.rebootTimeoutMs);
  });
}

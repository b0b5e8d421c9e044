/**
 * Rebooting hosts and waiting for them: the boot id is read before, the host is rebooted (or power-cycled), and the
 * wait ends when SSH answers with a different boot id.
 * @module
 */
import { effect } from "../core/ambient.ts";
import { type RemoteNode, waitFor } from "../remote/mod.ts";
import { BOOT_ID_COMMAND } from "./commands.ts";

/** The node's current boot id. */
export async function bootId(node: RemoteNode): Promise<string> {
  const r = await node.run({ cmd: BOOT_ID_COMMAND }, { stream: false, timeout: 15_000 });
  return r.stdout.trim();
}

/** Waits until the node answers over SSH with a boot id other than `before`. */
export function waitForNewBoot(node: RemoteNode, before: string, timeoutMs: number): Promise<void> {
  return effect(
    { kind: "wait", target: node.name, action: `SSH answers with a new boot id (timeout ${timeoutMs} ms)` },
    async () => {
      await waitFor(async () => {
        const now = await bootId(node);
        return now !== "" && now !== before;
      }, { timeout: timeoutMs, interval: 2000, what: `${node.name} back after reboot` });
    },
    () => undefined,
  );
}

/** Waits until the node answers over SSH (a fresh connection runs `true`). */
export function waitForSsh(node: RemoteNode, timeoutMs: number): Promise<void> {
  return effect(
    { kind: "wait", target: node.name, action: `SSH answers (timeout ${timeoutMs} ms)` },
    async () => {
      await waitFor(async () => {
        const r = await node.run(["true"], { stream: false, timeout: 10_000 });
        return r.exitCode === 0;
      }, { timeout: timeoutMs, interval: 1000, what: `${node.name} answering over SSH after the power cycle` });
    },
    () => undefined,
  );
}

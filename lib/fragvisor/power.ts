/**
 * Power control of a node, for the FragVisor restart (the aggregate VM cannot be restarted in place: every host is
 * power-cycled). `PowerControl` is the interface the restart uses; `IpmitoolPower` implements it with `ipmitool`
 * against each node's inventory IPMI endpoint (lib/ipmi did not exist when this was written). The password goes to
 * ipmitool through the IPMI_PASSWORD environment variable (`-E`), never on its command line.
 * @module
 */
import { effect } from "../core/ambient.ts";
import { HyperlabError, InputError } from "../core/errors.ts";
import type { Inventory, NodeSpec } from "../inventory/mod.ts";

/** What the restart needs from power control. */
export interface PowerControl {
  /** Power-cycles the node's host. */
  powerCycle(node: NodeSpec): Promise<void>;
}

/** The ipmitool argv that power-cycles a node (password from IPMI_PASSWORD). */
export function ipmitoolCycleArgv(node: NodeSpec, ipmitool = "ipmitool"): string[] {
  const e = node.ipmi;
  if (!e) {
    throw new InputError(
      `node "${node.name}" ipmi`,
      "an IPMI endpoint in the inventory (the restart power-cycles every host)",
    );
  }
  return [ipmitool, "-I", e.interface, "-H", e.host, "-p", String(e.port), "-U", e.user, "-E", "power", "cycle"];
}

/** Power control through the ipmitool client on the controller. */
export class IpmitoolPower implements PowerControl {
  readonly #inventory: Inventory;
  readonly #ipmitool: string;
  readonly #timeoutMs: number;

  constructor(inventory: Inventory, opts: { ipmitool?: string; timeoutMs?: number } = {}) {
    this.#inventory = inventory;
    this.#ipmitool = opts.ipmitool ?? "ipmitool";
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  powerCycle(node: NodeSpec): Promise<void> {
    const argv = ipmitoolCycleArgv(node, this.#ipmitool);
    return effect({ kind: "ipmi", target: node.name, action: argv.join(" ") }, async () => {
      const out = await new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: { IPMI_PASSWORD: this.#inventory.ipmiPassword(node.name) },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(this.#timeoutMs),
      }).output().catch((e) => {
        throw new HyperlabError("ipmi", `${node.name}: cannot run ${argv[0]}: ${(e as Error).message}`);
      });
      if (!out.success) {
        const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
        throw new HyperlabError("ipmi", `${node.name}: ipmitool power cycle failed (exit ${out.code}): ${err}`);
      }
    }, () => undefined);
  }
}

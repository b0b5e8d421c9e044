/**
 * Power control for the FragVisor restart (the aggregate VM cannot be restarted in place: every host is
 * power-cycled). The default goes through lib/ipmi (`RemoteNode.power`, ipmitool against the node's inventory
 * `ipmi:` endpoint, password from its secret reference); tests or other BMC tooling can pass their own.
 * @module
 */
import type { RemoteNode } from "../remote/mod.ts";

/** Power-cycles one node's host. */
export type PowerCycle = (node: RemoteNode) => Promise<void>;

/** Power cycle through the node's BMC (lib/ipmi; `--dry-run` plans the ipmitool command without the password). */
export const bmcPowerCycle: PowerCycle = (node) => node.power.cycle();

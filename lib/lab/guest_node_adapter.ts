/**
 * Bridges between guests and the cluster layer, by shape only (no import of lib/remote or lib/inventory):
 * a cluster node (`node.run(argv, {stdin, timeout, check, stream})` → `{exitCode, stdout, stderr}`) becomes a
 * {@link NodeRunner} for startGuestOnNode, and a guest's endpoint becomes an inventory node spec so the cluster
 * layer can drive the guest like any other node.
 * @module
 */
import type { NodeRunner } from "./guest_node.ts";
import type { GuestEndpoint } from "./guest_ssh.ts";

/** What the adapter needs from a cluster node (lib/remote's RemoteNode has this shape). */
export interface RunsCommands {
  readonly name: string;
  run(
    argv: readonly string[],
    options: { stdin?: Uint8Array; timeout?: number; check?: boolean; stream?: boolean },
  ): Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
}

/** A NodeRunner over a cluster node: non-zero exits are returned (check: false), output is not streamed. */
export function nodeRunnerOf(node: RunsCommands): NodeRunner {
  return {
    name: node.name,
    async run(argv, options = {}) {
      const r = await node.run(argv, { stdin: options.stdin, timeout: options.timeoutMs, check: false, stream: false });
      return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** An inventory node spec (lib/inventory's NodeSpec shape) for a guest on this machine. */
export interface GuestNodeSpec {
  name: string;
  host: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
  index: number;
  roles: string[];
  tags: string[];
  vars: Record<string, unknown>;
  local: false;
}

/**
 * The guest as an inventory node: reached at 127.0.0.1:<forwarded port> as root with the generated key, verified
 * by its exact known_hosts file; tagged `guest` (and `vars.hostKey` holds the public host key).
 */
export function guestNodeSpec(ep: GuestEndpoint, index = 0, roles: string[] = []): GuestNodeSpec {
  return {
    name: ep.name,
    host: ep.host,
    port: ep.port,
    user: ep.user,
    key: ep.key,
    knownHosts: ep.knownHosts,
    index,
    roles,
    tags: ["guest"],
    vars: { hostKey: ep.hostKey },
    local: false,
  };
}

/**
 * The operations a node agent serves. They run on the node (inside `agent_main.ts`) or in-process for the local
 * node; both go through `callOp`. No npm imports here: the agent ships without an npm cache.
 * @module
 */
import { hostname } from "node:os";
import { InputError } from "../core/errors.ts";
import { type KvmFacts, kvmFacts } from "../kvm/facts.ts";
import { type HostFacts, hostFacts } from "./host_facts.ts";

/** Every agent operation: name → (args) → result. */
export interface AgentApi {
  /** Liveness and identity of the agent process. */
  ping(args: Record<string, never>): { pid: number; hostname: string; deno: string };
  /** OS, kernel, CPUs, NUMA, memory, KVM/Xen/RDMA presence. */
  hostFacts(args: Record<string, never>): HostFacts;
  /** The KVM host-facts query (API version, capabilities) through the KVM shim. */
  kvmFacts(args: { device?: string }): KvmFacts;
}

/** Name of an agent operation. */
export type AgentOp = keyof AgentApi;

const ops: AgentApi = {
  ping: () => ({ pid: Deno.pid, hostname: hostname(), deno: Deno.version.deno }),
  hostFacts: () => hostFacts(),
  kvmFacts: (args) => {
    if (args.device !== undefined && (typeof args.device !== "string" || !args.device.startsWith("/dev/"))) {
      throw new InputError("device", "a device path under /dev", args.device);
    }
    return kvmFacts(args.device);
  },
};

/** Runs one operation by name (unknown names are an InputError). */
export async function callOp(op: string, args: unknown): Promise<unknown> {
  const fn = (ops as unknown as Record<string, (a: unknown) => unknown>)[op];
  if (typeof fn !== "function") throw new InputError("op", `one of ${Object.keys(ops).join(", ")}`, op);
  return await fn(args ?? {});
}

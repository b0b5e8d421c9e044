/**
 * The aggregate VM's vCPU layout: how many vCPUs each node runs, in node order. lkvm places vCPUs on nodes in
 * order (`-a 1 -b 1 -x 1 -y 1`: vCPU0 on nid0 … vCPU3 on nid3), so the owner of every vCPU follows from the layout.
 * @module
 */
import { InputError } from "../core/errors.ts";

/** A validated layout. */
export interface VcpuLayout {
  /** vCPUs per node, index = nid. */
  perNode: number[];
  /** Sum of perNode: lkvm's `-c` (lkvm overwrites `-c` with this sum anyway). */
  total: number;
  /** Nodes with at least one vCPU: lkvm's `-w` and the guest's `numa=fake=N`. */
  activeNodes: number;
  /** Node index (nid) of each vCPU, index = vCPU number. */
  owner: number[];
}

/**
 * Resolves `--vcpus` against the node count: one value applies to every node, otherwise one value per node.
 * The origin must run at least one vCPU (vCPU 0 starts there).
 */
export function resolveLayout(vcpus: readonly number[], nodeCount: number, field = "--vcpus"): VcpuLayout {
  if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new InputError("inventory", "at least one node", nodeCount);
  if (vcpus.length !== 1 && vcpus.length !== nodeCount) {
    throw new InputError(field, `one value, or ${nodeCount} values (one per node in inventory order)`, vcpus);
  }
  const perNode = vcpus.length === 1 ? Array(nodeCount).fill(vcpus[0]) : [...vcpus];
  perNode.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 64) throw new InputError(`${field}[${i}]`, "an integer 0..64", v);
  });
  if (perNode[0] < 1) throw new InputError(`${field}[0]`, "at least 1 (the origin runs vCPU 0)", perNode[0]);
  const owner = perNode.flatMap((n, nid) => Array(n).fill(nid) as number[]);
  return { perNode, total: owner.length, activeNodes: perNode.filter((n) => n > 0).length, owner };
}

/** The `taskset` mask that pins a process to one vCPU: 0x1, 0x2, 0x4, … */
export function tasksetMask(vcpu: number): string {
  if (!Number.isInteger(vcpu) || vcpu < 0) throw new InputError("vcpu", "a non-negative integer", vcpu);
  return `0x${(1n << BigInt(vcpu)).toString(16)}`;
}

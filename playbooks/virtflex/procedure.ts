/**
 * The Virtflex topology-change procedure, step by step as the Virtflex scripts do it
 * (guest_topo_change_all_the_way.sh, vcpu_pining.sh), independent of the playbook shell around it.
 * @module
 */
import { HyperlabError, InputError, TimeoutError } from "../../lib/core/errors.ts";
import {
  expandTargetKiB,
  readTopology,
  shrinkTargetKiB,
  virtflexPaths,
  type VirtflexTopology,
  type Xl,
} from "../../lib/xen/mod.ts";
import type { XenstoreClient } from "../../lib/xenstore/mod.ts";

/** Expand or shrink. */
export type TopoAction = "expand" | "shrink";

/** What one change does. */
export interface TopoChangeSpec {
  domid: number;
  action: TopoAction;
  node: number;
  /** Node memory in MB for the target formula (default: the node's capacity). */
  sizeMb?: number;
  /** How vCPUs come online on expand: per-CPU availability writes, or `xl vcpu-set`. */
  vcpuMethod: "availability" | "vcpu-set";
}

/** What was requested of the guest. */
export interface AppliedRequest {
  targetKiB: number;
  sizeMb: number;
  vcpus: number[];
  /** `xl vcpu-set` count when that method was used. */
  vcpuSetCount?: number;
}

/**
 * Checks the domain speaks the `numa/…` protocol. Throws when it only has the older `memory/…` subtree (which the
 * released kernel ignores) or no Virtflex subtree at all; returns a warning when both exist.
 */
export function checkSubtree(topo: VirtflexTopology): string | undefined {
  const p = virtflexPaths(topo.domid);
  if (topo.topoChange === undefined) {
    if (topo.legacySubtree) {
      throw new HyperlabError(
        "virtflex",
        `domain ${topo.domid} has the older ${p.legacy.topoChange} / memory/node/<n>/target subtree but no ` +
          `${p.topoChange}: it was set up for guest_topo_change.sh, whose memory/… paths the released Virtflex ` +
          `kernel ignores`,
        { hint: "create the domain with Virtflex's libxl (it writes numa/…) and use the numa/… paths" },
      );
    }
    throw new HyperlabError("virtflex", `domain ${topo.domid} has no ${p.topoChange}: not a Virtflex guest`, {
      hint: "create it with Virtflex's modified libxl (vnuma config), which writes the numa/… subtree",
    });
  }
  if (topo.legacySubtree) {
    return `domain ${topo.domid} also has the older memory/… subtree (ignored by the released kernel); using numa/…`;
  }
  return undefined;
}

/** Validates the spec against the domain's topology. */
export function resolveRequest(topo: VirtflexTopology, spec: TopoChangeSpec): AppliedRequest {
  const node = topo.nodes.find((n) => n.id === spec.node);
  if (!node) {
    throw new InputError(
      "--node",
      `a virtual NUMA node of domain ${topo.domid}: ${topo.nodes.map((n) => n.id).join(", ")}`,
      spec.node,
    );
  }
  if (spec.action === "shrink" && spec.vcpuMethod === "vcpu-set") {
    throw new InputError(
      "--vcpu-method",
      "availability for shrink (xl vcpu-set cannot offline one node's vCPUs)",
      "vcpu-set",
    );
  }
  const sizeMb = spec.sizeMb ?? (node.capacityKiB !== undefined ? Math.floor(node.capacityKiB / 1024) : undefined);
  if (sizeMb === undefined) {
    throw new InputError("--size-mb", `the node's memory in MB (node ${node.id} has no capacity in xenstore)`);
  }
  const targetKiB = spec.action === "expand" ? expandTargetKiB(sizeMb) : shrinkTargetKiB(sizeMb);
  let vcpuSetCount: number | undefined;
  if (spec.action === "expand" && spec.vcpuMethod === "vcpu-set") {
    const online = Object.entries(topo.availability).filter(([, v]) => v === "online").map(([c]) => Number(c));
    vcpuSetCount = Math.max(...online, ...node.vcpus) + 1;
  }
  return { targetKiB, sizeMb, vcpus: node.vcpus, vcpuSetCount };
}

/**
 * Sends the change: vCPUs (availability or vcpu-set), `numa/topo_change` 1|2, chmod `b` so the guest can reset
 * it, then the node's target. Every write goes through `effect` (planned under --dry-run).
 */
export async function sendChange(xs: XenstoreClient, xl: Xl, spec: TopoChangeSpec, req: AppliedRequest): Promise<void> {
  const p = virtflexPaths(spec.domid);
  if (spec.action === "expand" && req.vcpuSetCount !== undefined) {
    await xl.vcpuSet(spec.domid, req.vcpuSetCount);
  } else {
    const state = spec.action === "expand" ? "online" : "offline";
    for (const c of req.vcpus) await xs.write(p.cpuAvailability(c), state);
  }
  await xs.write(p.topoChange, spec.action === "expand" ? "1" : "2");
  await xs.setPerms(p.topoChange, [{ id: 0, access: "b" }]);
  await xs.write(p.node(spec.node).target, String(req.targetKiB));
}

/** What completion polling saw. */
export interface Completion {
  ms: number;
  polls: number;
}

/**
 * Waits until `numa/topo_change` reads 0 (the guest finished): re-reads it on every xenstore watch event and at
 * least every `pollMs` (the Virtflex scripts poll every 0.5 s; the watch makes the measured time precise). On
 * timeout throws TimeoutError with the last values seen (topo_change, the node's target, topo_version).
 */
export async function waitForCompletion(
  xs: XenstoreClient,
  spec: TopoChangeSpec,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal },
): Promise<Completion> {
  const p = virtflexPaths(spec.domid);
  const t0 = performance.now();
  const token = `virtflex-completion-${crypto.randomUUID()}`;
  await xs.watch(p.topoChange, token);
  let polls = 0;
  let last: string | undefined;
  try {
    while (true) {
      polls++;
      last = await xs.read(p.topoChange);
      if (last === "0") return { ms: performance.now() - t0, polls };
      const left = opts.timeoutMs - (performance.now() - t0);
      if (left <= 0) break;
      if (opts.signal?.aborted) throw opts.signal.reason;
      await xs.nextEvent(Math.min(opts.pollMs, left), opts.signal);
    }
  } finally {
    await xs.unwatch(p.topoChange, token).catch(() => {});
  }
  const target = await xs.read(p.node(spec.node).target);
  const version = await xs.read(p.topoVersion);
  throw new TimeoutError(
    `virtflex ${spec.action} of domain ${spec.domid} node ${spec.node}`,
    opts.timeoutMs,
    `last seen: ${p.topoChange}=${JSON.stringify(last)}, ${p.node(spec.node).target}=${JSON.stringify(target)}, ` +
      `topo_version=${JSON.stringify(version)} (the guest never reset topo_change: is its balloon driver running, ` +
      `and was topo_change chmod-ed to b?)`,
  );
}

/** One pin of the pinning plan. */
export interface Pin {
  domain: number;
  vcpu: number;
  cpu: number;
}

/** vcpu_pining.sh's plan: guest vCPU v → pCPU v + offset, dom0 vCPU n → pCPU n. */
export function pinningPlan(domid: number, guestVcpus: number[], dom0Vcpus: number, offset = 0): Pin[] {
  return [
    ...guestVcpus.map((v) => ({ domain: domid, vcpu: v, cpu: v + offset })),
    ...Array.from({ length: dom0Vcpus }, (_, n) => ({ domain: 0, vcpu: n, cpu: n })),
  ];
}

export { readTopology };

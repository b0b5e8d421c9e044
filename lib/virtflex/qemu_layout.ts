/**
 * The guest a QEMU topology change runs on, derived from the playbook's parameters (pure, no I/O): NUMA nodes with
 * boot vCPUs and free hotplug slots each, memory per node plus one DIMM slot, and the checks that refuse a change the
 * guest cannot take (unknown node, more vCPUs than slots, memory not in whole blocks…) before anything starts.
 * @module
 */
import { z } from "zod";
import { HyperlabError, InputError } from "../core/errors.ts";
import type { GuestOptionsInput, QmpHotpluggableCpu } from "../lab/guests_mod.ts";

/** Linux's memory block size on x86_64 guests below 64 GiB: DIMMs are added and removed in whole blocks. */
export const MEMORY_BLOCK_MB = 128;

/** Possible CPUs the guest kernel is told about, at least: above 8, Linux uses physical IPI addressing. */
export const MIN_POSSIBLE_CPUS = 9;

/** Most vCPU slots a lab guest accepts (GuestOptionsSchema's maxCpus). */
export const MAX_VCPU_SLOTS = 64;

/** Parameters of `virtflex/qemu-topo` (CLI flags are the kebab-case names). */
export const QemuTopoParamsSchema = z.object({
  action: z.enum(["expand", "shrink", "both"]).default("both")
    .describe("expand (add), shrink (remove what a setup expand added, unmeasured) or both in turn"),
  node: z.number().int().min(0).default(1).describe("guest NUMA node to expand or shrink"),
  vcpus: z.number().int().min(0).default(1).describe("vCPUs to add/remove on the node (at most --cpu-slots)"),
  sizeMb: z.number().int().min(0).default(128)
    .describe("memory DIMM to add/remove on the node, MB (MiB), whole 128 MB blocks; 0 = no memory change"),
  nodes: z.number().int().min(1).max(8).default(2).describe("guest NUMA nodes"),
  nodeVcpus: z.number().int().min(1).max(8).default(1).describe("vCPUs per node at boot"),
  cpuSlots: z.number().int().min(0).max(8).default(1).describe("free vCPU hotplug slots per node"),
  nodeMemMb: z.number().int().min(128).max(4096).default(256).describe("boot memory per node, MB (MiB)"),
  timeoutS: z.number().positive().max(600).default(60).describe("give up on one change the guest does not see by then"),
  pollMs: z.number().int().min(1).max(1000).default(10).describe("in-guest sysfs polling interval, ms"),
  accel: z.enum(["auto", "kvm", "tcg"]).default("auto").describe(
    "QEMU accelerator (auto: KVM when it boots, else TCG)",
  ),
  bootTimeoutS: z.number().int().min(10).max(3600).default(240).describe("guest boot budget (QEMU start → SSH)"),
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "lowercase letters, digits and -, at most 31").default("vf-topo")
    .describe("guest name (with --repeat: <name>-c<cycle>)"),
  repeat: z.number().int().min(1).max(50).default(1)
    .describe("cycles, each on a fresh guest (QEMU 7.2/TCG cannot hotplug again after a vCPU unplug)"),
});

/** Parsed parameters. */
export type QemuTopoParams = z.output<typeof QemuTopoParamsSchema>;

/** One vCPU slot as QEMU numbers it (`-smp` index) and the guest NUMA node it belongs to. */
export interface VcpuSlot {
  index: number;
  node: number;
  /** Present at boot (false: a free hotplug slot). */
  boot: boolean;
}

/** The guest machine and the change to make on it. */
export interface TopoLayout {
  /** Options for `startGuest` (machine part). */
  guest: GuestOptionsInput;
  /** Every vCPU slot, by index. */
  slots: VcpuSlot[];
  /** vCPUs present at boot. */
  bootCpus: number;
  /** All vCPU slots (`maxcpus`). */
  maxCpus: number;
  /** Boot memory per node, MiB. */
  nodeMemMb: number;
  /** The node to change. */
  node: number;
  /** vCPUs to add/remove there. */
  vcpus: number;
  /** DIMM size to add/remove there, MiB (0: none). */
  sizeMb: number;
}

/**
 * Derives the guest and checks the requested change fits it. Throws InputError naming the flag: `--node` (no such
 * node), `--vcpus` (more than the node's free slots, or nothing to change), `--size-mb` (not whole memory blocks),
 * `--cpu-slots` (more than {@link MAX_VCPU_SLOTS} slots in all), `--name` (too long for the `-c<cycle>` suffix).
 */
export function deriveLayout(p: QemuTopoParams): TopoLayout {
  if (p.node >= p.nodes) {
    throw new InputError("--node", `a guest NUMA node 0..${p.nodes - 1} (the guest has --nodes ${p.nodes})`, p.node);
  }
  if (p.vcpus > p.cpuSlots) {
    throw new InputError(
      "--vcpus",
      `at most --cpu-slots (${p.cpuSlots}): node ${p.node} has ${p.cpuSlots} free vCPU hotplug slot(s)`,
      p.vcpus,
    );
  }
  if (p.sizeMb % MEMORY_BLOCK_MB !== 0) {
    throw new InputError(
      "--size-mb",
      `a multiple of ${MEMORY_BLOCK_MB} MB (the guest's memory block size), or 0`,
      p.sizeMb,
    );
  }
  if (p.vcpus === 0 && p.sizeMb === 0) {
    throw new InputError("--vcpus", "at least 1 vCPU, or a --size-mb above 0 (nothing to change otherwise)", p.vcpus);
  }
  if (p.repeat > 1 && `${p.name}-c${p.repeat}`.length > 31) {
    throw new InputError(
      "--name",
      `at most ${31 - `-c${p.repeat}`.length} characters with --repeat ${p.repeat}`,
      p.name,
    );
  }
  const bootCpus = p.nodes * p.nodeVcpus;
  const maxCpus = bootCpus + p.nodes * p.cpuSlots;
  if (maxCpus > MAX_VCPU_SLOTS) {
    throw new InputError(
      "--cpu-slots",
      `at most ${MAX_VCPU_SLOTS} vCPU slots in all (--nodes × (--node-vcpus + --cpu-slots) is ${maxCpus})`,
      p.cpuSlots,
    );
  }
  // Boot vCPUs come first (QEMU plugs indexes 0..cpus-1 at start), node by node; then each node's free slots.
  const slots: VcpuSlot[] = [];
  for (let i = 0; i < bootCpus; i++) slots.push({ index: i, node: Math.floor(i / p.nodeVcpus), boot: true });
  for (let n = 0; n < p.nodes; n++) {
    for (let j = 0; j < p.cpuSlots; j++) slots.push({ index: slots.length, node: n, boot: false });
  }
  const memoryMiB = p.nodes * p.nodeMemMb;
  const guest: GuestOptionsInput = {
    name: p.name,
    cpus: bootCpus,
    maxCpus,
    memoryMiB,
    memoryHotplug: { slots: 1, maxMemoryMiB: memoryMiB + Math.max(p.sizeMb, MEMORY_BLOCK_MB) },
    numa: Array.from({ length: p.nodes }, (_, n) => ({
      cpus: slots.filter((s) => s.node === n).map((s) => s.index),
      memoryMiB: p.nodeMemMb,
    })),
    kernelArgs: [
      // Hot-added memory goes online by itself, in ZONE_MOVABLE, so it can be offlined again for removal.
      "memhp_default_state=online_movable",
      // More than 8 possible CPUs makes Linux address IPIs by physical APIC id (physflat). With the default logical
      // "flat" mode, QEMU 7.2 under TCG never delivers IPIs to a hot-added vCPU here (its RES/CAL counts stay 0),
      // and the guest hangs in the first cross-CPU call that waits for it.
      `possible_cpus=${Math.max(maxCpus, MIN_POSSIBLE_CPUS)}`,
    ],
    accel: p.accel,
  };
  return { guest, slots, bootCpus, maxCpus, nodeMemMb: p.nodeMemMb, node: p.node, vcpus: p.vcpus, sizeMb: p.sizeMb };
}

/** The hotpluggable CPU device type of `-cpu max` (TCG) or `-cpu host` (KVM). */
export function cpuDeviceType(accel: "kvm" | "tcg"): string {
  return accel === "kvm" ? "host-x86_64-cpu" : "max-x86_64-cpu";
}

/**
 * The slot properties QEMU 7.2's q35 machine gives vCPU index `i` when `-smp` names only cpus and maxcpus (it
 * prefers cores: one socket, `maxcpus` cores, one thread each). Used for the `--dry-run` plan; a real run takes them
 * from `query-hotpluggable-cpus`.
 */
export function expectedSlotProps(slot: VcpuSlot): Record<string, number> {
  return { "socket-id": 0, "core-id": slot.index, "thread-id": 0, "node-id": slot.node };
}

/** A free vCPU slot of `node` from `query-hotpluggable-cpus` (lowest core first), or an error naming what is free. */
export function pickFreeSlot(
  slots: QmpHotpluggableCpu[],
  node: number,
  skip: Set<string> = new Set(),
): QmpHotpluggableCpu {
  const key = (s: QmpHotpluggableCpu) => JSON.stringify(s.props);
  const free = slots.filter((s) => !s["qom-path"] && !skip.has(key(s)));
  const mine = free.filter((s) => s.props["node-id"] === node).sort((a, b) =>
    (a.props["socket-id"] ?? 0) - (b.props["socket-id"] ?? 0) ||
    (a.props["core-id"] ?? 0) - (b.props["core-id"] ?? 0) ||
    (a.props["thread-id"] ?? 0) - (b.props["thread-id"] ?? 0)
  );
  if (!mine.length) {
    const where = free.map((s) => s.props["node-id"] ?? "?").join(",") || "none";
    throw new HyperlabError(
      "virtflex-qemu",
      `node ${node} has no free vCPU slot left (query-hotpluggable-cpus: ${slots.length} slots, free ones on nodes: ${where})`,
    );
  }
  return mine[0];
}

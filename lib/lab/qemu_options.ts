/**
 * Typed options of a QEMU guest (zod): vCPUs and hotplug slots, memory and memory slots, NUMA nodes, loopback port
 * forwards, virtio-blk drives (files or NBD URLs), intel-iommu with device IOTLB, trace events and kernel arguments.
 * Cross-field rules (NUMA memory adds up, every vCPU in one node, maxmem above memory…) are checked here, so a bad
 * combination fails before QEMU starts, naming the field.
 * @module
 */
import { z } from "zod";
import { parseOrThrow } from "../core/zod_errors.ts";

const port = z.number().int().min(1).max(65535);

/** One loopback port forward: host 127.0.0.1:hostPort → guest guestPort (TCP). */
export const ForwardSchema = z.object({
  guestPort: port,
  /** Host port on 127.0.0.1; default: a free one is picked. */
  hostPort: port.optional(),
}).strict();

/** A virtio-blk drive: a host file/device or an NBD export URL. */
export const DriveSchema = z.union([
  z.object({
    file: z.string().regex(/^\//, "an absolute path"),
    format: z.enum(["raw", "qcow2"]).default("raw"),
    readOnly: z.boolean().default(false),
  }).strict(),
  z.object({
    nbd: z.string().regex(
      /^nbd(\+tcp|\+unix)?:\/\/[^\s,]*$/,
      "an NBD URL like nbd://127.0.0.1:10809/export or nbd+unix:///export?socket=/path",
    ),
    readOnly: z.boolean().default(false),
  }).strict(),
]);

/** One guest NUMA node: the vCPU indexes it holds and its memory. */
export const NumaNodeSchema = z.object({
  cpus: z.array(z.number().int().min(0)).min(1, "at least one vCPU index"),
  memoryMiB: z.number().int().min(16),
}).strict();

const kernelArg = z.string().regex(/^[^\s"']+$/, "one kernel argument without spaces or quotes");

/** The options of a guest. */
export const GuestOptionsSchema = z.object({
  /** Guest name: in QEMU's -name, the guest hostname, logs and the endpoint. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "lowercase letters, digits and -, at most 31").default("guest"),
  /** vCPUs online at boot. */
  cpus: z.number().int().min(1).max(64).default(1),
  /** vCPU slots for hotplug (`-smp maxcpus`); default `cpus`. */
  maxCpus: z.number().int().min(1).max(64).optional(),
  /** Boot memory in MiB. */
  memoryMiB: z.number().int().min(64).max(65536).default(256),
  /** Memory hotplug: DIMM slots and maximum memory (`-m slots,maxmem`); both or neither. */
  memoryHotplug: z.object({
    slots: z.number().int().min(1).max(32),
    maxMemoryMiB: z.number().int().min(64),
  }).strict().optional(),
  /** Guest NUMA nodes; their memory must add up to memoryMiB and every vCPU slot must be in exactly one. */
  numa: z.array(NumaNodeSchema).optional(),
  /** Virtio-net with QEMU user networking; SSH (guest port 22) is always forwarded when enabled. */
  network: z.object({
    enabled: z.boolean().default(true),
    forwards: z.array(ForwardSchema).default([]),
    /** Host port for SSH; default: a free one. */
    sshPort: port.optional(),
  }).strict().default({ enabled: true, forwards: [] }),
  /** Virtio-blk drives, in order (/dev/vda, /dev/vdb…). */
  drives: z.array(DriveSchema).default([]),
  /**
   * Emulated Intel IOMMU (q35, split irqchip) with device IOTLB and interrupt remapping. Known QEMU 7.2 bug: with
   * `intremap` on, unplugging a vCPU makes QEMU abort at exit ("double free or corruption"); set `intremap: false`
   * for guests whose vCPUs are unplugged.
   */
  iommu: z.object({
    deviceIotlb: z.boolean().default(true),
    intremap: z.boolean().default(true),
  }).strict().optional(),
  /** QEMU trace events (patterns such as `vtd_*`) written to a file. */
  trace: z.object({
    events: z.array(z.string().regex(/^[A-Za-z0-9_*]+$/, "a trace event name or pattern")).min(1),
    file: z.string().regex(/^\//, "an absolute path"),
  }).strict().optional(),
  /** Extra kernel command-line arguments. */
  kernelArgs: z.array(kernelArg).default([]),
  /** Acceleration: auto probes whether KVM can boot Linux here and falls back to TCG. */
  accel: z.enum(["auto", "kvm", "tcg"]).default("auto"),
  /** Raw extra QEMU arguments (escape hatch; recorded in the plan like the rest). */
  extraArgs: z.array(z.string()).default([]),
}).strict().superRefine((o, ctx) => {
  const maxCpus = o.maxCpus ?? o.cpus;
  if (maxCpus < o.cpus) {
    ctx.addIssue({ code: "custom", path: ["maxCpus"], message: `at least cpus (${o.cpus})` });
  }
  if (o.memoryHotplug && o.memoryHotplug.maxMemoryMiB <= o.memoryMiB) {
    ctx.addIssue({
      code: "custom",
      path: ["memoryHotplug", "maxMemoryMiB"],
      message: `more than memoryMiB (${o.memoryMiB})`,
    });
  }
  if (o.numa) {
    const total = o.numa.reduce((a, n) => a + n.memoryMiB, 0);
    if (total !== o.memoryMiB) {
      ctx.addIssue({
        code: "custom",
        path: ["numa"],
        message: `node memory adding up to memoryMiB (${o.memoryMiB}), got ${total}`,
      });
    }
    const owner = new Map<number, number>();
    o.numa.forEach((n, i) =>
      n.cpus.forEach((c, j) => {
        if (c >= maxCpus) {
          ctx.addIssue({ code: "custom", path: ["numa", i, "cpus", j], message: `a vCPU index below ${maxCpus}` });
        } else if (owner.has(c)) {
          ctx.addIssue({
            code: "custom",
            path: ["numa", i, "cpus", j],
            message: `vCPU ${c} in one node only (already in node ${owner.get(c)})`,
          });
        } else owner.set(c, i);
      })
    );
    for (let c = 0; c < maxCpus; c++) {
      if (!owner.has(c)) {
        ctx.addIssue({ code: "custom", path: ["numa"], message: `every vCPU slot in a node (vCPU ${c} is in none)` });
        break;
      }
    }
  }
  const seen = new Set<number>();
  o.network.forwards.forEach((f, i) => {
    if (f.guestPort === 22 || seen.has(f.guestPort)) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "forwards", i, "guestPort"],
        message: f.guestPort === 22 ? "a port other than 22 (SSH is forwarded already)" : "a port forwarded once",
      });
    }
    seen.add(f.guestPort);
  });
});

/** Guest options as written by a caller. */
export type GuestOptionsInput = z.input<typeof GuestOptionsSchema>;
/** Guest options after validation and defaults. */
export type GuestOptions = z.output<typeof GuestOptionsSchema>;

/** Validates guest options; throws InputError naming the field (e.g. `numa[1].cpus[0]`). */
export function parseGuestOptions(input: GuestOptionsInput): GuestOptions {
  return parseOrThrow(GuestOptionsSchema, input, "guest options");
}

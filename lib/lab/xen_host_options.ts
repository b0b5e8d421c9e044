/**
 * Typed options of the Xen lab host (zod): machine size, NUMA layout, dom0 memory, which xenstored, host shares,
 * SSH port, boot budget. Cross-field rules (dom0 memory below the machine's, NUMA nodes no more than vCPUs) fail
 * before QEMU starts, naming the field.
 * @module
 */
import { z } from "zod";
import { parseOrThrow } from "../core/zod_errors.ts";

const port = z.number().int().min(1).max(65535);

/** Options of a Xen lab host. */
export const XenHostOptionsSchema = z.object({
  /** Node name: dom0's hostname, the inventory entry, logs. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "lowercase letters, digits and -, at most 31").default("xen0"),
  /** Physical CPUs the hypervisor sees (QEMU vCPUs). */
  cpus: z.number().int().min(1).max(8).default(2),
  /** Machine memory in MiB. */
  memoryMiB: z.number().int().min(1024).max(16384).default(2048),
  /** dom0's memory in MiB (`dom0_mem=`); the rest is free for guests. */
  dom0MemoryMiB: z.number().int().min(512).max(8192).default(1024),
  /** Host NUMA nodes (QEMU `-numa`; memory split evenly, CPUs round-robin); 1 = no NUMA layout. */
  numaNodes: z.number().int().min(1).max(8).default(2),
  /** QEMU CPU model. Without RDTSCP by default: PVH guests under TCG fail with `SVM Insn len emulation failed`. */
  cpuModel: z.string().regex(/^[a-z0-9][a-z0-9,=+_.-]*$/, "a QEMU -cpu value like max or max,-rdtscp")
    .default("max,-rdtscp"),
  /**
   * TCG threading: all vCPUs on one host thread (`single`, default: on this shared 2-core machine dom0 was ready in
   * 16 s instead of 28–40 s) or one thread per vCPU (`multi`).
   */
  tcgThread: z.enum(["multi", "single"]).default("single"),
  /** Which xenstored dom0 runs: Xen's C one or the OCaml one. */
  xenstored: z.enum(["xenstored", "oxenstored"]).default("xenstored"),
  /** 9p shares: the project (read-only at /mnt/project), Deno + its npm cache (/mnt/deno, /mnt/deno-npm). */
  shares: z.object({
    project: z.boolean().default(true),
    deno: z.boolean().default(true),
  }).strict().default({ project: true, deno: true }),
  /** Host port on 127.0.0.1 forwarded to dom0's sshd; default: a free one. */
  sshPort: port.optional(),
  /** Budget for QEMU start → SSH answering, ms (a TCG boot takes 15–40 s on a busy machine). */
  bootTimeoutMs: z.number().int().min(10_000).max(1_800_000).default(240_000),
  /** Debian kernel package for dom0 (default: linux-image-amd64's current dependency). */
  kernelPackage: z.string().regex(/^linux-image-[0-9][A-Za-z0-9.+~-]*$/, "a linux-image-<release> package").optional(),
  /** Extra hypervisor command-line arguments. */
  xenArgs: z.array(z.string().regex(/^[^\s,"']+$/, "one argument without spaces, commas or quotes")).default([]),
  /** Extra dom0 kernel arguments. */
  dom0Args: z.array(z.string().regex(/^[^\s,"']+$/, "one argument without spaces, commas or quotes")).default([]),
  /** Also keep the serial console here (default: in the host's runtime directory). */
  consoleFile: z.string().regex(/^\//, "an absolute path").optional(),
}).strict().superRefine((o, ctx) => {
  if (o.dom0MemoryMiB > o.memoryMiB - 256) {
    ctx.addIssue({
      code: "custom",
      path: ["dom0MemoryMiB"],
      message: `at most memoryMiB - 256 (${o.memoryMiB - 256}), leaving room for Xen and guests`,
    });
  }
  if (o.numaNodes > o.cpus) {
    ctx.addIssue({ code: "custom", path: ["numaNodes"], message: `at most cpus (${o.cpus}): every node needs a CPU` });
  }
  if (o.memoryMiB % o.numaNodes !== 0) {
    ctx.addIssue({ code: "custom", path: ["memoryMiB"], message: `divisible by numaNodes (${o.numaNodes})` });
  }
});

/** Xen lab host options as written by a caller. */
export type XenHostOptionsInput = z.input<typeof XenHostOptionsSchema>;
/** Xen lab host options after validation and defaults. */
export type XenHostOptions = z.output<typeof XenHostOptionsSchema>;

/** Validates options; throws InputError naming the field. */
export function parseXenHostOptions(input: XenHostOptionsInput = {}): XenHostOptions {
  return parseOrThrow(XenHostOptionsSchema, input, "Xen lab host options");
}

/**
 * The xl domain configuration as a zod model: the keys hyperlab's playbooks use (Virtflex's vnuma layout,
 * Nephele's `max_clones` / `skip_cloning`, pinning through `cpus`) plus `extra` for any other xl key.
 * Cross-field rules: vnuma node sizes add up to `memory`, vnuma vCPUs cover 0..vcpus-1 exactly once, and each
 * node has one distance per node.
 * @module
 */
import { z } from "zod";
import { parseOrThrow } from "../core/zod_errors.ts";
import { parseCpuList } from "./cpumap.ts";

const cpuList = z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, "a CPU list like 0-6,28-34");
const action = z.enum([
  "destroy",
  "restart",
  "rename-restart",
  "preserve",
  "coredump-destroy",
  "coredump-restart",
  "soft-reset",
]);

/** One virtual NUMA node (`vnuma = [ ["pnode=0","size=4096","vcpus=0-6","vdistances=10,20"], … ]`). */
export const VnumaNode = z.object({
  pnode: z.number().int().min(0).describe("physical node backing it"),
  size: z.number().int().positive().describe("memory in MiB"),
  vcpus: cpuList.describe("vCPUs on this node"),
  vdistances: z.array(z.number().int().positive()).min(1).describe("distance to every virtual node"),
});
/** One virtual NUMA node. */
export type VnumaNode = z.infer<typeof VnumaNode>;

/** A value xl accepts for keys hyperlab does not model. */
export const XlExtraValue = z.union([z.string(), z.number(), z.array(z.string())]);

/** An xl domain configuration. */
export const XlConfig = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits, _ . - (starting with a letter or digit)"),
  type: z.enum(["pv", "pvh", "hvm"]).optional(),
  memory: z.number().int().positive().describe("MiB"),
  maxmem: z.number().int().positive().optional(),
  vcpus: z.number().int().positive(),
  maxvcpus: z.number().int().positive().optional(),
  cpus: z.string().regex(/^(all|node:\d+|\d+(-\d+)?(,\d+(-\d+)?)*)$/, "all, node:N or a CPU list").optional(),
  kernel: z.string().min(1).optional(),
  ramdisk: z.string().min(1).optional(),
  cmdline: z.string().optional(),
  disk: z.array(z.string()).optional(),
  vif: z.array(z.string()).optional(),
  vnuma: z.array(VnumaNode).min(1).optional(),
  on_crash: action.optional(),
  on_poweroff: action.optional(),
  on_reboot: action.optional(),
  max_clones: z.number().int().min(0).optional().describe("Nephele: non-zero enables cloning"),
  skip_cloning: z.array(z.enum(["network", "9pfs", "console", "xenstore"])).optional()
    .describe("Nephele: devices not cloned"),
  extra: z.record(z.string().regex(/^[a-z_][a-z0-9_]*$/), XlExtraValue).optional(),
}).strict().superRefine((c, ctx) => {
  if (c.maxmem !== undefined && c.maxmem < c.memory) {
    ctx.addIssue({ code: "custom", path: ["maxmem"], message: "must be >= memory" });
  }
  if (c.maxvcpus !== undefined && c.maxvcpus < c.vcpus) {
    ctx.addIssue({ code: "custom", path: ["maxvcpus"], message: "must be >= vcpus" });
  }
  if (!c.vnuma) return;
  const total = c.vnuma.reduce((n, v) => n + v.size, 0);
  if (total !== c.memory) {
    ctx.addIssue({
      code: "custom",
      path: ["vnuma"],
      message: `node sizes add up to ${total} MiB, memory is ${c.memory}`,
    });
  }
  const seen = new Map<number, number>();
  c.vnuma.forEach((node, i) => {
    if (node.vdistances.length !== c.vnuma!.length) {
      ctx.addIssue({
        code: "custom",
        path: ["vnuma", i, "vdistances"],
        message: `expected ${c.vnuma!.length} distances (one per node)`,
      });
    }
    for (const v of parseCpuList(node.vcpus, `vnuma[${i}].vcpus`)) {
      if (seen.has(v)) {
        ctx.addIssue({ code: "custom", path: ["vnuma", i, "vcpus"], message: `vCPU ${v} also on node ${seen.get(v)}` });
      }
      seen.set(v, i);
    }
  });
  const want = c.maxvcpus ?? c.vcpus;
  for (let v = 0; v < want; v++) {
    if (!seen.has(v)) {
      ctx.addIssue({ code: "custom", path: ["vnuma"], message: `vCPU ${v} is on no node` });
      break;
    }
  }
  for (const v of seen.keys()) {
    if (v >= want) ctx.addIssue({ code: "custom", path: ["vnuma"], message: `vCPU ${v} >= ${want} vCPUs` });
  }
});
/** An xl domain configuration. */
export type XlConfig = z.infer<typeof XlConfig>;

/** Validates an xl config, throwing InputError naming the bad field. */
export function validateXlConfig(value: unknown): XlConfig {
  return parseOrThrow(XlConfig, value, "xl config");
}

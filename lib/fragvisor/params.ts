/**
 * Parameters of the FragVisor playbook (seed-systems §1) and their resolution against the inventory: vCPUs per
 * node in node order, guest memory, kernel tree, lkvm, ramdisk, network, rebuild flags, phases and timeouts.
 * @module
 */
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import type { NodeSpec } from "../inventory/mod.ts";
import { messagingIps } from "./msg_config.ts";
import { absPath, ifName, ipv4, mac } from "./net_values.ts";
import { resolveLayout, type VcpuLayout } from "./vcpu_layout.ts";

/** The phases of a FragVisor run, in the order they run. */
export const PHASES = ["kernels", "restart", "msg-layer", "launch", "verify", "experiments"] as const;
/** One phase. */
export type Phase = typeof PHASES[number];
/** Experiments of step 5. */
export const EXPERIMENTS = ["lemp", "net-delegation", "openlambda"] as const;

/** The playbook's parameter schema (CLI flags derive from it). */
export const FragvisorParams = z.object({
  inventory: z.string().min(1).describe("inventory file (nodes in order, origin first) or `lab`"),
  limit: z.string().optional().describe("limit expression: run on these nodes only"),
  vcpus: z.array(z.number().int().min(0).max(64)).default([1])
    .describe("vCPUs per node in node order (one value = every node)"),
  memoryMb: z.number().int().min(64).max(4_194_304).default(32768).describe("guest memory, MB (lkvm -m)"),
  kernelTree: absPath().default("/root/fragvisor-linux")
    .describe("Popcorn kernel tree on every node (a node's vars.kernelTree overrides it)"),
  lkvm: absPath().default("/root/fragvisor-kvmtool/lkvm").describe("lkvm binary (same absolute path on every node)"),
  ramdisk: absPath().default("/root/ramdisk.gz").describe("guest ramdisk (lkvm -i)"),
  lkvmStateDir: absPath().default("/root/.lkvm").describe("lkvm socket directory cleaned on every node"),
  waitBridge: z.boolean().default(true).describe("wait for the tap in the bridge (off where lkvm cannot make a tap)"),
  tap: ifName().default("tap0").describe("tap interface lkvm creates on the origin"),
  bridge: ifName().default("br0").describe("bridge the tap must join"),
  guestIp: ipv4().default("10.4.4.222").describe("guest address"),
  hostIp: ipv4().default("10.4.4.221").describe("host side of the tap"),
  guestMac: mac().default("00:11:22:33:44:55").describe("guest MAC"),
  extraCmdline: z.string().default("").describe("extra guest kernel arguments"),
  rebuildLkvm: z.boolean().default(false).describe("make clean; make -j16 in lkvm's directory first"),
  rebuildGuestKernel: z.boolean().default(false).describe("build the guest kernel (POPHYPE_HOST_KERNEL 0) first"),
  perfExp: z.boolean().default(false).describe("kernels phase: set PERF_EXP 1 in debug.h"),
  kernelConfigOff: z.array(z.string().regex(/^CONFIG_[A-Z0-9_]+$/, "a kernel config symbol like CONFIG_POPCORN_DEBUG"))
    .default([]).describe("kernels phase: config options turned off before building (Popcorn debug/sanity/stats)"),
  phases: z.array(z.enum(PHASES)).default(["msg-layer", "launch"]).describe(`phases to run: ${PHASES.join(", ")}`),
  experiments: z.array(z.enum(EXPERIMENTS)).default(["lemp", "net-delegation", "openlambda"])
    .describe("experiments phase: which experiments"),
  lempPaths: z.array(z.string().regex(/^\/\S*$/, "a URL path starting with /")).default([
    "/25ms.php",
    "/40ms.php",
    "/250ms.php",
    "/500ms.php",
  ]).describe("LEMP: the PHP script variants on the guest's web server (25/40/250/500 ms; names are site-specific)"),
  netPaths: z.array(z.string().regex(/^\/\S*$/, "a URL path starting with /")).default([
    "/1B",
    "/1KB",
    "/10KB",
    "/100KB",
    "/1MB",
  ]).describe("network delegation: one URL path per response size 1 B…1 MB (site-specific)"),
  openlambdaFunctions: z.number().int().min(1).max(64).default(4)
    .describe("OpenLambda: concurrent POSTs to ports 5000… (one per function)"),
  benchmark: z.string().min(1).default("./ep.B.x.ser.van").describe("verify phase: CPU benchmark run in the guest"),
  joinTimeoutMs: z.number().int().min(100).default(90_000).describe("wait for Ready + N-1 joined lines, ms"),
  bootTimeoutMs: z.number().int().min(100).default(300_000).describe("wait for the console markers, ms"),
  rebootTimeoutMs: z.number().int().min(100).default(600_000).describe("wait for SSH after a reboot, ms"),
  restartCheck: z.enum(["boot-id", "ssh"]).default("boot-id")
    .describe("restart confirmed by a new boot id (real hosts) or SSH answering (stand-ins that do not reboot)"),
  consoleKeepaliveMs: z.number().int().min(0).default(2000)
    .describe("write a newline to lkvm's console this often (0 = never; the console stalls without it)"),
  sudo: z.boolean().default(true).describe("prefix privileged commands with sudo"),
  pathPrefix: absPath().optional().describe("directory prepended to PATH on every node (test doubles)"),
});

/** Parsed parameters. */
export type FragvisorParamsT = z.infer<typeof FragvisorParams>;

/** Inventory `vars` key of a node's own kernel tree path (default: --kernel-tree). */
export const TREE_VAR = "kernelTree";

/** Parameters resolved against the inventory: what every procedure step needs. */
export interface FragvisorConfig extends FragvisorParamsT {
  /** Node names in node order (index = nid). */
  nodeNames: string[];
  /** Messaging-layer IPs in node order. */
  ips: string[];
  /** Kernel tree of each node in node order (`vars.kernelTree`, else --kernel-tree). */
  trees: string[];
  layout: VcpuLayout;
  /** Guest kernel image lkvm boots. */
  guestKernel: string;
  /** Phases to run, in canonical order (restart implies msg-layer). */
  phaseList: Phase[];
}

/** Resolves parameters against the inventory's nodes (after --limit). Errors name the field. */
export function resolveConfig(p: FragvisorParamsT, nodes: readonly NodeSpec[]): FragvisorConfig {
  if (nodes.length < 1) throw new InputError("--limit", "a selection with at least one node", p.limit);
  const ips = messagingIps(nodes);
  const layout = resolveLayout(p.vcpus, nodes.length);
  const wanted = new Set(p.phases);
  if (wanted.has("restart")) wanted.add("msg-layer");
  if (p.extraCmdline.includes("'") || p.extraCmdline.includes("\n")) {
    throw new InputError("--extra-cmdline", "kernel arguments without quotes or newlines", p.extraCmdline);
  }
  const trees = nodes.map((n) => {
    const t = n.vars?.[TREE_VAR];
    if (t === undefined) return p.kernelTree;
    const r = absPath().safeParse(t);
    if (!r.success) throw new InputError(`node "${n.name}" vars.${TREE_VAR}`, "an absolute path", t);
    return r.data;
  });
  return {
    ...p,
    nodeNames: nodes.map((n) => n.name),
    ips,
    trees,
    layout,
    guestKernel: `${trees[0]}/arch/x86/boot/bzImage`,
    phaseList: PHASES.filter((x) => wanted.has(x)),
  };
}

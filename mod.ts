/**
 * hyperlab: a Deno runtime for hypervisor-research playbooks.
 *
 * ```ts
 * import { definePlaybook, z } from "./mod.ts";
 * export default definePlaybook({
 *   name: "hello",
 *   description: "Says hello and records a metric",
 *   params: z.object({ times: z.number().int().default(1).describe("how often") }),
 *   async run(ctx) {
 *     await ctx.step("greet", () => ctx.log.info("hello"));
 *     ctx.metric("greetings", ctx.params.times);
 *   },
 * });
 * ```
 * @module
 */
export { z } from "zod";
export { definePlaybook, isPlaybook } from "./lib/core/playbook.ts";
export type { Playbook, PlaybookDefinition } from "./lib/core/playbook.ts";
export type { ArtifactData, Logger, RunContext, StepHandle, StepOptions } from "./lib/core/context.ts";
export { currentRun, effect } from "./lib/core/ambient.ts";
export type { PlanEntry } from "./lib/core/ambient.ts";
export { runPlaybook } from "./lib/core/runner.ts";
export type { RunOptions, RunOutcome } from "./lib/core/runner.ts";
export { CancelledError, HyperlabError, InputError, MissingError, TimeoutError } from "./lib/core/errors.ts";
export { DEFAULT_STORE_PATH, ResultsStore } from "./lib/results/store.ts";
export type { RunRow, RunStatus, StepRow } from "./lib/results/types.ts";
export { ErrnoError } from "./lib/ffi/errno.ts";
export { kvmFacts } from "./lib/kvm/facts.ts";
export type { KvmFacts } from "./lib/kvm/facts.ts";
export { compareRuns, stats } from "./lib/results/compare.ts";

export { defineInventory, Inventory, loadInventory, parseInventoryYaml } from "./lib/inventory/mod.ts";
export type { NodeSpec } from "./lib/inventory/mod.ts";
export {
  Cluster,
  CommandError,
  connectCluster,
  FanoutError,
  RemoteError,
  RemoteNode,
  RemoteTimeoutError,
  retryLimit,
  retryTargets,
  shQuote,
  waitFor,
} from "./lib/remote/mod.ts";
export type { CommandResult, FanoutResult, HostFacts } from "./lib/remote/mod.ts";
/** The local lab of SSH nodes (network namespaces with a real sshd each). */
export * as lab from "./lib/lab/mod.ts";
/** QEMU lab guests: images, boot, QMP, SSH, guests on nodes. */
export * as guests from "./lib/lab/guests_mod.ts";
/** IPMI power control and serial-over-LAN through ipmitool (and an ipmi_sim stand-in BMC). */
export * as ipmi from "./lib/ipmi/mod.ts";
/** KVM through FFI: system/VM/vCPU objects, decoded exits, the micro-VMM and copy-on-write cloning. */
export * as kvm from "./lib/kvm/mod.ts";
/** xenstore clients (libxenstore shim or pure wire protocol) and the embedded xenstored. */
export * as xenstore from "./lib/xenstore/mod.ts";
/** Xen: libxenctrl shim, xl config model and xl command wrappers, Virtflex paths. */
export * as xen from "./lib/xen/mod.ts";
/** RDMA verbs over libibverbs (absent here: one clear MissingError). */
export * as rdma from "./lib/rdma/mod.ts";
/** Remote memory: memory servers, clients with one-sided alloc/free and two-sided read/write, TCP and verbs. */
export * as rmem from "./lib/rmem/mod.ts";
/** NBD server whose blocks live in remote memory. */
export * as nbd from "./lib/nbd/mod.ts";
/** Scheduled experiment jobs, node locks, Slurm executor. */
export * as schedule from "./lib/schedule/mod.ts";
/** Self-contained HTML run reports and `repeat()` for repeated measurements. */
export * as report from "./lib/report/mod.ts";
/** HyperSIO: IOMMU log parser, trace constructor, performance model and sweeps. */
export * as hypersio from "./lib/hypersio/mod.ts";
/** FragVisor on Popcorn clusters: config.h, debug.h edits, lkvm command lines, marker and `ab` parsers. */
export * as fragvisor from "./lib/fragvisor/mod.ts";
/** Nephele on Xen: xl configs, dom0 preflight, xencloned, clone triggers, UDP time collector. */
export * as nephele from "./lib/nephele/mod.ts";
/** Virtflex on QEMU: NUMA guest layouts, QMP vCPU/DIMM hotplug per node, in-guest topology confirmation. */
export * as virtflex from "./lib/virtflex/mod.ts";
/** Dependency-free SVG plots. */
export * as plot from "./lib/plot/mod.ts";

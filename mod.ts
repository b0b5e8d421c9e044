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

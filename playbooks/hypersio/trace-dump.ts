/**
 * `hypersio/trace-dump`: reads a hyper-tenant trace (the three binary files, ours or the reference's) and prints
 * its counts and first records; the full text dump is stored as an artifact.
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { dumpTrace, traceFilesFromPrefix } from "../../lib/hypersio/mod.ts";

export default definePlaybook({
  name: "hypersio/trace-dump",
  description: "Dump a HyperSIO trace (iotlb_trace/cc_data/slpt_data .bin): counts, tenants, first records",
  params: z.object({
    prefix: z.string().min(1).describe(
      "trace prefix: the path up to and including the `_` before iotlb_trace.bin (an iotlb_trace.bin path works too)",
    ),
    limit: z.number().int().min(0).max(1_000_000).default(20).describe("records printed per file"),
  }),
  async run(ctx) {
    const prefix = ctx.params.prefix.replace(/iotlb_trace\.bin$/, "");
    const files = traceFilesFromPrefix(prefix);
    const s = await ctx.step("read trace", () => dumpTrace(files, { limit: ctx.params.limit }));
    console.log(s.text);
    ctx.metric("translations", s.translations, "records");
    ctx.metric("contexts", s.contexts, "records");
    ctx.metric("walks", s.walks, "records");
    ctx.metric("tenants", s.tenants, "count");
    await ctx.artifact("trace-dump.txt", s.text, "text/plain");
    const { text: _text, ...summary } = s;
    return { files, ...summary };
  },
});

/**
 * `hypersio/model`: runs the HyperSIO performance model on one trace and prints the reference-style report.
 * Geometry comes from a `.cfg` file (the reference's format) or the explorer's defaults; the run records the
 * options and which reference quirks were on.
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import {
  defaultConfig,
  formatCfgText,
  formatReport,
  parseCfgText,
  QuirksSchema,
  runModel,
  traceFilesFromPrefix,
} from "../../lib/hypersio/mod.ts";

export default definePlaybook({
  name: "hypersio/model",
  description: "Run the HyperSIO I/O translation performance model on a trace (event-driven, reference-exact)",
  params: z.object({
    prefix: z.string().min(1).describe(
      "trace prefix (path up to the `_` before iotlb_trace.bin) or iotlb_trace.bin path",
    ),
    config: z.string().optional().describe("reference .cfg file (default: the explorer's geometry)"),
    tqueue: z.number().int().min(1).max(1 << 20).default(1).describe("pending-translation limit"),
    inorder: z.boolean().default(false).describe("FIFO event queues"),
    salloc: z.boolean().default(false).describe("static partitioning by DID groups"),
    iotlbRepl: z.enum(["lru", "lfu", "oracle"]).default("lru").describe("IOTLB replacement"),
    linkGbps: z.number().int().min(1).max(12336).default(200).describe("link bandwidth, Gb/s"),
    mode: z.enum(["event", "tick"]).default("event").describe("event-driven, or tick every ns like the reference"),
    quirks: QuirksSchema.partial().default({}).describe(
      'reference quirks to switch off, e.g. {"walkLatencyByLevel":false}',
    ),
  }),
  async run(ctx) {
    const p = ctx.params;
    const cfg = p.config ? parseCfgText(await Deno.readTextFile(p.config), p.config) : defaultConfig();
    const files = traceFilesFromPrefix(p.prefix.replace(/iotlb_trace\.bin$/, ""));
    const r = await ctx.step("model", () =>
      runModel(files.iotlb, cfg, {
        tqueue: p.tqueue,
        inorder: p.inorder,
        salloc: p.salloc,
        iotlbRepl: p.iotlbRepl,
        linkGbps: p.linkGbps,
        mode: p.mode,
        quirks: p.quirks,
      }, ctx.signal));
    const report = formatReport(r);
    console.log(report);
    await ctx.artifact("report.txt", report, "text/plain");
    await ctx.artifact("config.cfg", formatCfgText(cfg), "text/plain");
    ctx.metric("elapsed", r.elapsedNs, "ns");
    ctx.metric("translations", r.translations, "count");
    ctx.metric("dropped_packets", r.droppedPackets, "count");
    ctx.metric("throughput", r.mbps, "Mb/s");
    ctx.metric("utilization", r.utilization, "ratio");
    for (const [name, c] of Object.entries(r.caches)) {
      ctx.metric(`${name}.hit`, c.hit, "count");
      ctx.metric(`${name}.miss`, c.miss, "count");
      ctx.metric(`${name}.conflict`, c.conflict, "count");
    }
    const { flows: _f, ...rest } = r;
    return {
      ...rest,
      flows: r.flows.length,
      quirksOn: Object.entries(r.options.quirks).filter(([, v]) => v).map(([k]) => k),
    };
  },
});

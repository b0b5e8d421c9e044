/**
 * `hypersio/explore`: a parameter sweep of the HyperSIO model. Every list parameter is a sweep axis; points run in
 * parallel on Workers (one per core by default). Each point is recorded as metrics (tagged with its parameters) and
 * appended to a journal, so re-running with the same `--sweep` name resumes an interrupted sweep without redoing
 * finished points. Plots (utilization vs tenants, IOTLB hit rate vs size) are stored as SVG artifacts.
 * Not done: running points across lab nodes from an inventory (points run on this machine only).
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import {
  expandGrid,
  hitRatePlot,
  type PointResult,
  runSweep,
  SweepGridSchema,
  utilizationPlot,
  writeSyntheticLog,
} from "../../lib/hypersio/mod.ts";

const grid = SweepGridSchema.shape;

export default definePlaybook({
  name: "hypersio/explore",
  description: "Sweep HyperSIO model parameters in parallel (resumable), recording every point and plotting",
  params: z.object({
    sweep: z.string().regex(/^[A-Za-z0-9._-]+$/).default("default").describe(
      "sweep name: its journal is .hyperlab/hypersio/sweeps/<name>.jsonl; the same name resumes",
    ),
    logPrefix: z.string().default(".hyperlab/hypersio/logs/synthetic_vm_8").describe("IOMMU log prefix"),
    devicesPerLog: z.number().int().min(1).max(256).optional().describe("devices per log (default: _vm_<D>_)"),
    synthetic: z.boolean().default(false).describe("write SIMULATED synthetic logs at the prefix first (if absent)"),
    workers: z.number().int().min(1).max(256).default(navigator.hardwareConcurrency ?? 1).describe("parallel workers"),
    tenants: grid.tenants.describe("tenants (list)"),
    order: grid.order.describe("trace orders (list)"),
    burst: grid.burst.describe("packets per tenant turn (list)"),
    iotlbSize: grid.iotlbSize.describe("IOTLB entries (list)"),
    iotlbWays: grid.iotlbWays.describe("IOTLB ways (list)"),
    iotlbRepl: grid.iotlbRepl.describe("IOTLB replacement (list)"),
    l2Size: grid.l2Size.describe("L2PAGE entries (list)"),
    l3Size: grid.l3Size.describe("L3PAGE entries (list)"),
    prefetchSize: grid.prefetchSize.describe("prefetch buffer entries (list)"),
    prefetchDist: grid.prefetchDist.describe("prefetch distance (list)"),
    prefetchHist: grid.prefetchHist.describe("prefetch history length (list)"),
    tqueue: grid.tqueue.describe("pending-translation limit (list)"),
    inorder: grid.inorder.describe("FIFO queues (list of booleans)"),
    salloc: grid.salloc.describe("static partitioning (list of booleans)"),
    linkGbps: grid.linkGbps.describe("link Gb/s (list)"),
  }),
  async run(ctx) {
    const { sweep, logPrefix, devicesPerLog, synthetic, workers, ...axes } = ctx.params;
    if (ctx.dryRun) {
      const points = expandGrid(axes).length;
      ctx.plan({
        kind: "file",
        target: `.hyperlab/hypersio/sweeps/${sweep}.jsonl`,
        action: `run ${points} model points on ${workers} workers (traces under .hyperlab/hypersio/traces)`,
      });
      return { dryRun: true, points };
    }
    if (synthetic) {
      await ctx.step("write synthetic logs (simulated)", async () => {
        const perLog = devicesPerLog ?? Number(/_vm_(\d+)/.exec(logPrefix)?.[1] ?? 8);
        const maxTenants = Math.max(...axes.tenants);
        await Deno.mkdir(logPrefix.replace(/\/[^/]*$/, ""), { recursive: true });
        for (let k = 0; k * perLog < maxTenants; k++) {
          const path = `${logPrefix}_${k}.txt`;
          const exists = await Deno.stat(path).then(() => true, () => false);
          if (!exists) await writeSyntheticLog(path, { devices: perLog, translationsPerDevice: 1500, seed: k + 1 });
        }
      });
    }
    const journal = `.hyperlab/hypersio/sweeps/${sweep}.jsonl`;
    const outcome = await ctx.step("sweep", () =>
      runSweep({
        grid: axes,
        logPrefix,
        devicesPerLog,
        traceDir: ".hyperlab/hypersio/traces",
        journal,
        workers,
        signal: ctx.signal,
        onTrace: (path, built) => ctx.log.info(`${built ? "built" : "reusing"} trace ${path}`),
        onPoint: (r: PointResult, resumed: boolean) => {
          const tags = Object.fromEntries(Object.entries(r.point).map(([k, v]) => [k, String(v)]));
          if (resumed) tags.resumed = "true";
          ctx.metric("utilization", r.summary.utilization, "ratio", tags);
          ctx.metric("throughput", r.summary.mbps, "Mb/s", tags);
          ctx.metric("elapsed", r.summary.elapsedNs, "ns", tags);
          ctx.metric("iotlb_hit_rate", r.summary.iotlbHitRate, "ratio", tags);
          ctx.metric("dropped_packets", r.summary.droppedPackets, "count", tags);
          ctx.metric("model_cpu", r.summary.modelMs, "ms", tags);
          ctx.log.info(
            `${resumed ? "resumed" : "done"} ${JSON.stringify(r.point)}: ${
              (100 * r.summary.utilization).toFixed(1)
            }% ` +
              `util, IOTLB hit ${(100 * r.summary.iotlbHitRate).toFixed(1)}%`,
          );
        },
      }));
    await ctx.step("plots", async () => {
      await ctx.artifact("utilization-vs-tenants.svg", utilizationPlot(outcome.points), "image/svg+xml");
      await ctx.artifact("iotlb-hit-rate-vs-size.svg", hitRatePlot(outcome.points), "image/svg+xml");
    });
    console.log(
      `sweep ${sweep}: ${outcome.points.length} points (${outcome.computed} computed, ${outcome.resumed} resumed)`,
    );
    return { journal, points: outcome.points.length, computed: outcome.computed, resumed: outcome.resumed };
  },
});

/**
 * `hypersio/explore`: a parameter sweep of the HyperSIO model. Every list parameter is a sweep axis; points run in
 * parallel on Workers (one per core by default). Each point is recorded as metrics (tagged with its parameters) and
 * appended to a journal, so re-running with the same `--sweep` name resumes an interrupted sweep without redoing
 * finished points. Plots (utilization vs tenants, IOTLB hit rate vs size) are stored as SVG artifacts.
 *
 * With `--inventory <file|lab>` (and optional `--limit`), points run on the inventory's nodes instead of this
 * machine: each node gets the Deno executable, a bundled point runner and the traces its points need (by content
 * hash, once per node) and runs `--node-workers` points at once (default: its CPU count, at most 8). This machine only
 * builds traces, schedules, journals and records; pass `--workers N` to add N local Workers to the nodes. Results
 * are identical to a local run (same model code; only the `model_cpu` metric differs). A node that fails mid-sweep
 * is logged with its cause, recorded as `cluster.node_failed` and in the result's `failedNodes`; its points go to
 * the other nodes (the sweep fails, keeping its journal, only when no node is left). `--retry <run>` re-runs the
 * sweep on the failed nodes, resuming from the journal.
 *
 * `deno task play hypersio/explore --synthetic --tenants 1,4,16 --iotlb-size 32,64 --inventory lab`
 * (`--point-timeout-ms`: a point running longer on a node counts as the node failing.)
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster, recordNodeOutcome } from "../../lib/remote/mod.ts";
import {
  expandGrid,
  hitRatePlot,
  nodeExecutors,
  type PointResult,
  pointRunnerBundle,
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
    workers: z.number().int().min(0).max(256).optional().describe(
      "local parallel workers (default: CPU count; with --inventory: 0, points run on the nodes only)",
    ),
    inventory: z.string().min(1).optional().describe("run points on this inventory's nodes (file or `lab`)"),
    limit: z.string().optional().describe("limit expression for --inventory, e.g. `n0,n2` or `!n1`"),
    nodeWorkers: z.number().int().min(1).max(64).optional().describe(
      "points per node at once (default: the node's CPU count, at most 8)",
    ),
    pointTimeoutMs: z.number().int().min(1).default(30 * 60_000).describe(
      "a point running longer on a node counts as the node failing (its points go elsewhere)",
    ),
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
  }).superRefine((p, issues) => {
    if (p.workers === 0 && !p.inventory) {
      issues.addIssue({
        code: "custom",
        path: ["workers"],
        message: "at least 1 without --inventory (no node runs points)",
      });
    }
    for (const k of ["limit", "nodeWorkers"] as const) {
      if (p[k] !== undefined && !p.inventory) {
        issues.addIssue({ code: "custom", path: [k], message: "only with --inventory" });
      }
    }
  }),
  async run(ctx) {
    const {
      sweep,
      logPrefix,
      devicesPerLog,
      synthetic,
      inventory,
      limit,
      nodeWorkers,
      pointTimeoutMs,
      workers: workersParam,
      ...axes
    } = ctx.params;
    const workers = workersParam ?? (inventory ? 0 : navigator.hardwareConcurrency ?? 1);
    const cluster = inventory ? connectCluster(await loadInventory(inventory, limit)) : undefined;
    const nodes = cluster?.nodes ?? [];
    if (ctx.dryRun) {
      const points = expandGrid(axes).length;
      const where = [workers ? `${workers} local workers` : "", nodes.length ? `nodes ${nodes.map((n) => n.name)}` : ""]
        .filter(Boolean).join(" and ");
      ctx.plan({
        kind: "file",
        target: `.hyperlab/hypersio/sweeps/${sweep}.jsonl`,
        action: `run ${points} model points on ${where} (traces under .hyperlab/hypersio/traces)`,
      });
      for (const n of nodes) {
        ctx.plan({
          kind: "file",
          target: n.name,
          action: "install deno (agent install), hypersio-point-<sha256>.js (bundle of lib/hypersio/" +
            "sweep_remote_main.ts) and each needed trace as hypersio-traces/<sha256>.bin into $HOME/.cache/hyperlab",
        });
        ctx.plan({
          kind: "ssh",
          target: n.name,
          action: `per point: <deno> run --no-config --no-lock --quiet --allow-read=<trace> <hypersio-point.js> ` +
            `(job on stdin, summary JSON on stdout; ${nodeWorkers ?? "CPU count (max 8)"} at once)`,
        });
      }
      return { dryRun: true, points, nodes: nodes.map((n) => n.name) };
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
    if (nodes.length) {
      // Bundled here, so a local bundling failure fails the run instead of being blamed on every node.
      await ctx.step("bundle the point runner", async () => {
        const b = await pointRunnerBundle();
        ctx.log.info(`point runner ${b.path} (sha256 ${b.sha256.slice(0, 16)}) for nodes ${nodes.map((n) => n.name)}`);
      });
    }
    const journal = `.hyperlab/hypersio/sweeps/${sweep}.jsonl`;
    const resumedKeys = new Set<string>();
    const outcome = await ctx.step("sweep", () =>
      runSweep({
        grid: axes,
        logPrefix,
        devicesPerLog,
        traceDir: ".hyperlab/hypersio/traces",
        journal,
        workers,
        executors: nodes.length
          ? nodeExecutors(nodes, {
            slots: nodeWorkers,
            pointTimeoutMs,
            log: (node, message) => ctx.log.info(message, node),
          })
          : undefined,
        onExecutorLost: (node, err) => {
          ctx.log.error(`node failed, its points go to the others: ${err.message}`, node);
          recordNodeOutcome(node, "failed", err.reason);
        },
        signal: ctx.signal,
        onTrace: (path, built) => ctx.log.info(`${built ? "built" : "reusing"} trace ${path}`),
        onPoint: (r: PointResult, resumed: boolean) => {
          const tags = Object.fromEntries(Object.entries(r.point).map(([k, v]) => [k, String(v)]));
          if (resumed) {
            tags.resumed = "true";
            resumedKeys.add(r.key);
          }
          ctx.metric("utilization", r.summary.utilization, "ratio", tags);
          ctx.metric("throughput", r.summary.mbps, "Mb/s", tags);
          ctx.metric("elapsed", r.summary.elapsedNs, "ns", tags);
          ctx.metric("iotlb_hit_rate", r.summary.iotlbHitRate, "ratio", tags);
          ctx.metric("dropped_packets", r.summary.droppedPackets, "count", tags);
          ctx.metric("model_cpu", r.summary.modelMs, "ms", tags);
          ctx.log.info(
            `${resumed ? "resumed" : "done"}${r.node && !resumed ? ` on ${r.node}` : ""} ${JSON.stringify(r.point)}: ${
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
    return {
      journal,
      points: outcome.points.length,
      computed: outcome.computed,
      resumed: outcome.resumed,
      nodes: nodes.map((n) => n.name),
      /** Points computed per node (`local` for this machine's Workers). */
      pointsByNode: countBy(outcome.points.filter((r) => !resumedKeys.has(r.key)).map((r) => r.node ?? "local")),
      /** What `deno task play --retry <run>` re-targets. */
      failedNodes: outcome.lost,
    };
  },
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

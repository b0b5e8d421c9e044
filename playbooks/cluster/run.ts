/**
 * Runs one command on every node (argv, safely quoted) with a timeout, streaming each node's lines into the run
 * log, and records per-node exit codes and durations. Failed nodes are recorded, so `--retry <run>` re-targets them.
 *
 * `deno task play cluster/run --inventory lab --command "uname -r"`
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster } from "../../lib/remote/mod.ts";

export default definePlaybook({
  name: "cluster/run",
  description: "Run a command on every node (fan-out with per-node results; failed nodes can be retried)",
  params: z.object({
    inventory: z.string().min(1).default("lab").describe("inventory file or `lab`"),
    limit: z.string().optional().describe("limit expression, e.g. `n0,n2` or `!n1`"),
    command: z.string().min(1).describe("command line, split on spaces into argv (each word quoted)"),
    shell: z.boolean().default(false).describe("run --command as a /bin/sh script instead of argv"),
    timeoutMs: z.number().int().min(1).default(60_000).describe(
      "per-node timeout (the remote process group is killed)",
    ),
    concurrency: z.number().int().min(1).default(64).describe("nodes worked on at once"),
    continueOnError: z.boolean().default(true).describe("keep going when a node fails"),
  }),
  async run(ctx) {
    const p = ctx.params;
    const cluster = connectCluster(await loadInventory(p.inventory, p.limit));
    const command = p.shell ? { cmd: p.command } : p.command.trim().split(/\s+/);
    const r = await ctx.step(`run on ${cluster.nodes.length} nodes`, (s) =>
      cluster.run(command, {
        timeout: p.timeoutMs,
        concurrency: p.concurrency,
        continueOnError: p.continueOnError,
        signal: s.signal,
      }));
    for (const o of r.outcomes) {
      if (o.status === "ok") ctx.metric("duration", o.value.durationMs, "ms", { node: o.node });
    }
    return {
      ok: r.ok,
      failed: r.failed,
      skipped: r.skipped,
      /** What `deno task play --retry <run>` re-targets. */
      failedNodes: [...r.failed, ...r.skipped],
      nodes: r.outcomes.map((o) =>
        o.status === "ok"
          ? { node: o.node, exitCode: o.value.exitCode, ms: Math.round(o.value.durationMs) }
          : { node: o.node, status: o.status, error: o.status === "failed" ? o.error : o.reason }
      ),
    };
  },
});

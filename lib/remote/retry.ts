/**
 * Retrying a run on the nodes that failed: fan-outs record each failed or skipped node in the run record (metrics
 * `cluster.node_failed` / `cluster.node_skipped`, tagged with node and cause); `retryTargets` reads them back so
 * `--retry <run>` can re-run the playbook limited to those nodes (and `parentRun` set to the old run).
 * @module
 */
import { currentRun } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import type { ResultsStore } from "../results/store.ts";

/** Metric names that mark nodes to retry. */
export const NODE_FAILED_METRIC = "cluster.node_failed";
export const NODE_SKIPPED_METRIC = "cluster.node_skipped";

/** Records, in the current run (if any), that `node` failed with `cause` or was skipped. */
export function recordNodeOutcome(node: string, status: "failed" | "skipped", cause: string): void {
  const run = currentRun();
  if (!run || run.dryRun) return;
  run.metric(status === "failed" ? NODE_FAILED_METRIC : NODE_SKIPPED_METRIC, 1, "count", { node, cause });
}

/**
 * Nodes a retry of `runId` should target: every node recorded as failed or skipped, in first-failure order.
 * Throws InputError when the run does not exist or has no failed nodes to retry.
 */
export function retryTargets(store: ResultsStore, runId: number): string[] {
  const run = store.getRun(runId);
  if (!run) throw new InputError("--retry", "the id of a recorded run", runId);
  const nodes: string[] = [];
  for (const m of store.metrics(runId)) {
    if (
      (m.name === NODE_FAILED_METRIC || m.name === NODE_SKIPPED_METRIC) && m.tags.node && !nodes.includes(m.tags.node)
    ) {
      nodes.push(m.tags.node);
    }
  }
  if (nodes.length === 0) {
    throw new InputError("--retry", "a run with failed nodes", runId, {
      hint: `run ${runId} recorded no failed or skipped nodes (status ${run.status}); run it again without --retry`,
    });
  }
  return nodes;
}

/** The `--limit` expression for a retry: the failed nodes joined by commas. */
export function retryLimit(store: ResultsStore, runId: number): string {
  return retryTargets(store, runId).join(",");
}

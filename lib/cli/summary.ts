/** Machine-readable summary of a recorded run (what `--json` prints and `results export --json` writes). */
import type { ResultsStore } from "../results/store.ts";

/** Everything recorded for a run, as plain JSON. */
export function runSummaryJson(store: ResultsStore, runId: number): Record<string, unknown> {
  const run = store.getRun(runId);
  if (!run) return { runId, error: "no such run" };
  return {
    runId: run.id,
    uuid: run.uuid,
    playbook: run.playbook,
    status: run.status,
    dryRun: run.dry_run,
    params: run.params,
    gitCommit: run.git_commit,
    playbookCommit: run.playbook_commit,
    startedAt: new Date(run.started_at).toISOString(),
    endedAt: run.ended_at ? new Date(run.ended_at).toISOString() : null,
    durationMs: run.ended_at ? run.ended_at - run.started_at : null,
    error: run.error,
    result: run.result,
    host: run.host,
    facts: store.facts(runId),
    steps: store.steps(runId).map((s) => ({
      id: s.id,
      parent: s.parent_id,
      name: s.name,
      status: s.status,
      ms: s.ended_at ? +(s.ended_at - s.started_at).toFixed(3) : null,
      error: s.error,
    })),
    metrics: store.metrics(runId).map((m) => ({ name: m.name, value: m.value, unit: m.unit, tags: m.tags })),
    artifacts: store.artifacts(runId).map((a) => ({ name: a.name, size: a.size, sha256: a.sha256 })),
    plan: store.planEntries(runId).map((p) => ({ kind: p.kind, target: p.target, action: p.action })),
    logs: store.logs(runId).map((l) => ({ ts: l.ts, level: l.level, source: l.source, message: l.message })),
  };
}

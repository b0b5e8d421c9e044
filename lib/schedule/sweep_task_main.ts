/**
 * One task of a Slurm sweep array: `deno run -A sweep_task_main.ts --store <db> --playbook <path> --points <json>`.
 * Runs the playbook with point number $SLURM_ARRAY_TASK_ID and records the run with its Slurm ids. Exit code 0 ok,
 * 1 failed, 3 interrupted (SIGTERM from scancel or the time limit), 2 bad invocation.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CancelledError, formatError } from "../core/errors.ts";
import { runPlaybook } from "../core/runner.ts";
import { importPlaybook } from "../cli/resolve.ts";
import { ResultsStore } from "../results/store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { store: { type: "string" }, playbook: { type: "string" }, points: { type: "string" } },
});
const task = Number(Deno.env.get("SLURM_ARRAY_TASK_ID"));
if (!values.store || !values.playbook || !values.points || !Number.isInteger(task)) {
  console.error("sweep_task_main: --store, --playbook, --points and $SLURM_ARRAY_TASK_ID are required");
  Deno.exit(2);
}
const abort = new AbortController();
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(sig, () => abort.abort(new CancelledError(`received ${sig} (scancel or time limit)`)));
}
let code = 2;
try {
  const points = JSON.parse(readFileSync(values.points, "utf8")) as Record<string, unknown>[];
  if (!points[task]) throw new Error(`no sweep point ${task} in ${values.points} (${points.length} points)`);
  const pb = await importPlaybook(values.playbook);
  using store = ResultsStore.open(values.store, { recoverStale: false });
  const out = await runPlaybook(pb, points[task], {
    store,
    signal: abort.signal,
    playbookPath: values.playbook,
    host: {
      slurm: {
        jobId: Deno.env.get("SLURM_JOB_ID") ?? null,
        arrayJobId: Deno.env.get("SLURM_ARRAY_JOB_ID") ?? null,
        arrayTask: task,
        node: Deno.env.get("SLURMD_NODENAME") ?? null,
      },
    },
  });
  console.log(
    JSON.stringify({ runId: out.runId, status: out.status, error: out.error ? formatError(out.error) : null }),
  );
  code = out.status === "ok" ? 0 : out.status === "interrupted" ? 3 : 1;
} catch (e) {
  console.error(formatError(e));
}
Deno.exit(code);

/**
 * Child-process entry that runs one occurrence (started by the scheduler or by a Slurm batch script):
 * `deno run -A lib/schedule/run_job_main.ts --store <db> --occurrence <id> [--parent-run <id>] [--detached]`.
 * The run is cancelled (recorded interrupted) on SIGTERM/SIGINT, on a `cancel <reason>` line on stdin, and — unless
 * `--detached` — when stdin closes because the scheduler died. Prints one JSON line with the outcome; exit code 0 ok,
 * 1 failed, 3 interrupted, 2 bad invocation.
 * @module
 */
import { parseArgs } from "node:util";
import { CancelledError, formatError } from "../core/errors.ts";
import { ResultsStore } from "../results/store.ts";
import { runOccurrence } from "./run_occurrence.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    store: { type: "string" },
    occurrence: { type: "string" },
    "parent-run": { type: "string" },
    detached: { type: "boolean", default: false },
  },
});
if (!values.store || !values.occurrence || !/^\d+$/.test(values.occurrence)) {
  console.error("run_job_main: --store <db> and --occurrence <id> are required");
  Deno.exit(2);
}

const abort = new AbortController();
const cancel = (reason: string) => {
  if (!abort.signal.aborted) abort.abort(new CancelledError(reason));
};
for (const sig of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(sig, () => cancel(`received ${sig}`));
if (!values.detached) watchParent(cancel);

let code = 2;
try {
  using store = ResultsStore.open(values.store, { recoverStale: false });
  const slurm = Deno.env.get("SLURM_JOB_ID");
  const out = await runOccurrence(store, Number(values.occurrence), {
    signal: abort.signal,
    parentRun: values["parent-run"] ? Number(values["parent-run"]) : null,
    host: slurm ? { slurm: { jobId: slurm, node: Deno.env.get("SLURMD_NODENAME") ?? null } } : undefined,
  });
  console.log(JSON.stringify(out));
  code = out.status === "ok" ? 0 : out.status === "interrupted" ? 3 : 1;
} catch (e) {
  console.error(formatError(e));
}
Deno.exit(code);

/** Cancels when the parent writes `cancel <reason>` or closes our stdin (it exited or was killed). */
function watchParent(onCancel: (reason: string) => void): void {
  (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of Deno.stdin.readable) {
        buf += decoder.decode(chunk, { stream: true });
        const m = /^cancel ?(.*)$/m.exec(buf);
        if (m) return onCancel(m[1] || "cancelled by the scheduler");
      }
    } catch { /* stdin error: treat as parent gone */ }
    onCancel("the scheduler process ended (killed or crashed) while the run was going");
  })();
}

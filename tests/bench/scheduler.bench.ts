/**
 * Benchmark `scheduler`: 1,000 scheduled jobs all due on the same cron second (every 5 s), dispatched by the real
 * Scheduler on the real clock into a real SQLite store (lease, due-time recording, claim, node-lock check, run
 * record). Measures jobs dispatched per second within a burst and dispatch lateness (dispatch time minus due time,
 * p50/p99). Target: lateness p99 under 1 s.
 *
 * The 1,000-job measurement dispatches in-process to a run that only writes its run record (create, metric, finish):
 * a full runPlaybook spawns `git` three times for provenance (~30 ms of CPU), and a `deno` child per run costs
 * ~0.3 s, so either would measure run start-up, not dispatch. Two smaller rows show those costs: in-process
 * runPlaybook (100 jobs) and one subprocess per run (20 jobs, at most 4 at once).
 * @module
 */
import { join } from "node:path";
import { ResultsStore } from "../../lib/results/store.ts";
import { addJob } from "../../lib/schedule/add_job.ts";
import { InProcessDispatcher } from "../../lib/schedule/in_process_dispatcher.ts";
import { JobStore } from "../../lib/schedule/job_store.ts";
import { Scheduler } from "../../lib/schedule/scheduler.ts";
import { SubprocessDispatcher } from "../../lib/schedule/subprocess_dispatcher.ts";
import type { Dispatcher, DispatchHandle, DispatchRequest } from "../../lib/schedule/dispatcher.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

const PLAYBOOK_TS = new URL("../../lib/core/playbook.ts", import.meta.url).href;

/** Dispatches in-process to a run that only records itself (the scheduler-only cost). */
class RecordOnlyDispatcher implements Dispatcher {
  readonly name = "record-only";
  constructor(readonly results: ResultsStore, readonly jobs: JobStore) {}
  start(req: DispatchRequest): DispatchHandle {
    const done = Promise.resolve().then(() => {
      const runId = this.results.createRun({ playbook: "trivial", params: req.job.params });
      this.jobs.updateOccurrence(req.occurrence.id, { runId });
      this.results.metric(runId, "i", Number(req.job.params.i));
      this.results.finishRun(runId, "ok");
      return { status: "ok" as const, runId, error: null, timedOut: false };
    });
    return { pid: null, done };
  }
}

interface Measure {
  mode: string;
  jobs: number;
  dispatched: number;
  ok: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  wallS: number;
}

async function measure(
  mode: string,
  jobsN: number,
  bursts: number,
  mk: (r: ResultsStore) => Dispatcher,
  maxConcurrent: number,
): Promise<Measure> {
  const dir = Deno.makeTempDirSync({ prefix: "hyperlab-bench-sched-" });
  try {
    const pb = join(dir, "trivial.ts");
    Deno.writeTextFileSync(
      pb,
      `import { z } from "zod";\nimport { definePlaybook } from "${PLAYBOOK_TS}";\n` +
        `export default definePlaybook({ name: "trivial", description: "bench", params: z.object({ i: z.number() }),\n` +
        `  run(ctx) { ctx.metric("i", ctx.params.i); } });\n`,
    );
    using results = ResultsStore.open(join(dir, "results.db"));
    const jobs = new JobStore(results);
    // Leave at least 2 s before the first due time so adding the jobs does not eat into it.
    const start = Date.now();
    for (let i = 0; i < jobsN; i++) {
      await addJob(jobs, { playbook: pb, cron: "*/5 * * * * *", name: `j${i}`, params: { i } }, start);
    }
    const scheduler = new Scheduler({
      results,
      dispatcher: mk(results),
      maxConcurrent,
      tickMs: 100,
      log: () => {},
    });
    // Adding 1,000 jobs takes a while: start them all on the first */5 s boundary at least 1 s from now.
    const firstDue = Math.ceil((Date.now() + 1_000) / 5_000) * 5_000;
    jobs.db.prepare("UPDATE schedule_jobs SET next_due_at=?").run(firstDue);
    const stopAt = firstDue + (bursts - 1) * 5_000 + 2_500;
    const ctrl = new AbortController();
    const t0 = performance.now();
    const loop = scheduler.run(ctrl.signal);
    while (Date.now() < stopAt) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 50));
    while (scheduler.activeCount > 0 && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    ctrl.abort();
    await loop;
    const wallS = (performance.now() - t0) / 1000;
    const rows = jobs.db.prepare(
      "SELECT scheduled_at, dispatched_at, status FROM schedule_occurrences WHERE dispatched_at IS NOT NULL",
    ).all() as { scheduled_at: number; dispatched_at: number; status: string }[];
    const late = rows.map((r) => (r.dispatched_at - r.scheduled_at) / 1000);
    const byBurst = new Map<number, number[]>();
    for (const r of rows) byBurst.set(r.scheduled_at, [...(byBurst.get(r.scheduled_at) ?? []), r.dispatched_at]);
    // Throughput of a burst: jobs dispatched / time from their due time to the last dispatch.
    const rates = [...byBurst.entries()].map(([due, d]) => d.length / Math.max((Math.max(...d) - due) / 1000, 0.001));
    return {
      mode,
      jobs: jobsN,
      dispatched: rows.length,
      ok: rows.filter((r) => r.status === "ok").length,
      perSecond: rates.length ? Math.min(...rates) : NaN,
      p50: percentile(late, 50),
      p99: percentile(late, 99),
      max: Math.max(...late),
      wallS,
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const bench: Bench = {
  name: "scheduler",
  description: "jobs dispatched per second and dispatch lateness p50/p99 with 1,000 scheduled jobs (target p99 < 1 s)",
  async run(args: string[]) {
    const n = Number(args[0] ?? 1000);
    const inProc = await measure("record-only", n, 2, (r) => new RecordOnlyDispatcher(r, new JobStore(r)), 2000);
    const full = await measure("runPlaybook", 100, 1, (r) => new InProcessDispatcher(r), 100);
    const sub = await measure("subprocess", 20, 1, (r) => new SubprocessDispatcher(r.path), 4);
    const rows = [inProc, full, sub].map((m) => [
      m.mode,
      m.jobs,
      m.dispatched,
      m.ok,
      m.perSecond,
      m.p50,
      m.p99,
      m.max,
      m.wallS,
    ]);
    printTable(
      "scheduler: jobs all due on the same second (cron */5 s), real clock, SQLite store",
      [
        "dispatch",
        "jobs",
        "dispatched",
        "ok",
        "dispatched/s (burst)",
        "late p50 s",
        "late p99 s",
        "late max s",
        "wall s",
      ],
      rows,
    );
    console.log(
      "lateness = dispatch time - due time. record-only: in-process dispatch to a run that writes its record " +
        "(the 1,000-job target); runPlaybook: full in-process runs incl. git provenance; subprocess: a `deno` child " +
        "per run, max 4 at once. The last two show run start-up cost and are not part of the target.",
    );
    emitResult("scheduler", { recordOnly: inProc, runPlaybook: full, subprocess: sub }, {
      lateness_p99_s: { value: inProc.p99, target: 1, op: "<=" },
      all_dispatched: { value: inProc.dispatched, target: 2 * n, op: ">=" },
    });
  },
};

export default bench;

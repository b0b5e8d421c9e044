import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import { addJob } from "../../../lib/schedule/add_job.ts";
import { InProcessDispatcher } from "../../../lib/schedule/in_process_dispatcher.ts";
import { RoutingDispatcher } from "../../../lib/schedule/routing_dispatcher.ts";
import { Scheduler } from "../../../lib/schedule/scheduler.ts";
import { slurmJobState } from "../../../lib/schedule/slurm.ts";
import { SlurmDispatcher } from "../../../lib/schedule/slurm_dispatcher.ts";
import { followSweep, submitSweep } from "../../../lib/schedule/slurm_sweep.ts";
import { scheduleCommand } from "../../../lib/schedule/schedule_cli.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { openJobs, waitFor, writePlaybook } from "../../unit/schedule/_fixtures.ts";
import { startSlurm } from "./_slurm.ts";

const slurm = await startSlurm();
const skip = typeof slurm === "string" ? `Slurm cannot run here: ${slurm}` : null;
if (typeof slurm !== "string") globalThis.addEventListener("unload", () => slurm.kill());

Deno.test({
  name: "slurm executor: a scheduled run becomes a Slurm job, followed to completion, recorded in the same store",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    using s = openJobs(dir.path);
    const pb = writePlaybook(dir.path, "onslurm");
    const good = await addJob(s.jobs, { playbook: pb, cron: "*/2 * * * * *", executor: "slurm", name: "good" });
    const bad = await addJob(s.jobs, {
      playbook: pb,
      cron: "*/2 * * * * *",
      executor: "slurm",
      name: "bad",
      params: { fail: true },
    });
    const scheduler = new Scheduler({
      results: s.results,
      dispatcher: new RoutingDispatcher({
        local: new InProcessDispatcher(s.results),
        slurm: new SlurmDispatcher(s.results.path, { pollMs: 300, workDir: join(dir.path, "slurm") }),
      }),
      maxConcurrent: 4,
      tickMs: 100,
      log: () => {},
    });
    s.jobs.setPaused(bad.id, true);
    const ctrl = new AbortController();
    const loop = scheduler.run(ctrl.signal);
    try {
      await waitFor(() => s.jobs.history(good.id).some((o) => o.status === "ok"), 60_000, "a Slurm-run occurrence");
      const occ = s.jobs.history(good.id).find((o) => o.status === "ok")!;
      assert.match(occ.slurmJobId ?? "", /^\d+$/, "Slurm job id recorded");
      const run = s.results.getRun(occ.runId!)!;
      assert.equal(run.status, "ok");
      assert.equal((run.host.slurm as { jobId: string }).jobId, occ.slurmJobId, "the run ran inside that Slurm job");
      assert.notEqual(run.pid, Deno.pid);
      const st = await slurmJobState(occ.slurmJobId!);
      assert.equal(st.state, "COMPLETED");
      s.jobs.setPaused(good.id, true);
      s.jobs.setPaused(bad.id, false, Math.ceil(Date.now() / 2000) * 2000);
      await waitFor(() => s.jobs.history(bad.id).some((o) => o.status === "failed"), 60_000, "the failing job");
      const failed = s.jobs.history(bad.id).find((o) => o.status === "failed")!;
      assert.match(failed.slurmJobId ?? "", /^\d+$/);
      assert.match(failed.reason!, /asked to fail/);
      assert.equal(s.results.getRun(failed.runId!)!.status, "failed");
    } finally {
      ctrl.abort();
      await loop;
    }
  },
});

Deno.test({
  name: "slurm sweep: each point is one task of a job array; runs land in the store with their point's params",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    using s = openJobs(dir.path);
    const pb = writePlaybook(dir.path, "sweepme", { required: true });
    await assert.rejects(
      submitSweep({ storePath: s.results.path, playbook: pb, points: [{ need: "a" }, { need: 3 }] }),
      (e) => e instanceof InputError && e.field === "points[1].need",
    );
    const points = [{ need: "a", sleepMs: 10 }, { need: "b", sleepMs: 20 }, { need: "c", fail: true }];
    const sub = await submitSweep({ storePath: s.results.path, playbook: pb, points, workDir: join(dir.path, "w") });
    assert.match(sub.arrayJobId, /^\d+$/);
    const res = await followSweep(s.results, sub, { pollMs: 300 });
    assert.deepEqual(res.map((r) => r.status), ["ok", "ok", "failed"]);
    assert.deepEqual(res.map((r) => r.slurmTask), [0, 1, 2].map((i) => `${sub.arrayJobId}_${i}`));
    for (const r of res) {
      const run = s.results.getRun(r.runId!)!;
      assert.equal(run.params.need, points[r.index].need);
      assert.equal((run.host.slurm as { arrayTask: number }).arrayTask, r.index);
    }
  },
});

Deno.test({
  name: "schedule sweep CLI: a grid becomes a job array; exit code reflects the points' runs",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    const pb = writePlaybook(dir.path, "gridded", { required: true });
    const out: string[] = [];
    const db = join(dir.path, "results.db");
    const code = await scheduleCommand(
      ["sweep", pb, "--grid", "sleep-ms=1,2", "--grid", "need=x,y", "--parallel", "2", "--results", db],
      { out: (t) => out.push(t) },
    );
    assert.equal(code, 0, out.join("\n"));
    assert.match(out[0], /submitted 4 point\(s\) as Slurm job array \d+/);
    assert.equal((out[1].match(/ ok /g) ?? []).length, 4);
    using s = openJobs(dir.path);
    const params = s.results.listRuns().map((r) => `${r.params.sleepMs}${r.params.need}`).sort();
    assert.deepEqual(params, ["1x", "1y", "2x", "2y"]);
    const bad = await scheduleCommand(["sweep", pb, "--grid", "fail=true", "--need", "z", "--results", db], {
      out: () => {},
    });
    assert.equal(bad, 1, "a failed point fails the command");
  },
});

Deno.test({
  name: "slurm: stop the test cluster",
  ignore: skip !== null,
  async fn() {
    if (typeof slurm !== "string") await slurm.stop();
  },
});

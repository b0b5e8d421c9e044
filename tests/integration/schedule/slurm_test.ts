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
  name: "slurm: stop the test cluster",
  ignore: skip !== null,
  async fn() {
    if (typeof slurm !== "string") await slurm.stop();
  },
});

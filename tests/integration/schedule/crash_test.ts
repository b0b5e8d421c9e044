import assert from "node:assert/strict";
import { join } from "node:path";
import { addJob } from "../../../lib/schedule/add_job.ts";
import { parseCron } from "../../../lib/schedule/cron.ts";
import { Lease } from "../../../lib/schedule/lease.ts";
import { pidAlive } from "../../../lib/schedule/pid.ts";
import { tempDir } from "../../_helpers.ts";
import { openJobs, readMarks, waitFor, writePlaybook } from "../../unit/schedule/_fixtures.ts";
import { SchedulerProc } from "./_procs.ts";

Deno.test({
  name: "scheduler kill -9 mid-run: run interrupted, job kept, next due time right, nothing runs twice",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    using s = openJobs(dir.path);
    const pb = writePlaybook(dir.path, "long");
    const marks = join(dir.path, "marks");
    const job = await addJob(s.jobs, {
      playbook: pb,
      cron: "*/2 * * * * *",
      params: { sleepMs: 60_000, marker: marks },
    });
    let occId = 0;
    let runId = 0;
    {
      await using sched = new SchedulerProc(s.results.path, ["--grace", "30"]);
      await waitFor(
        () => {
          const o = s.jobs.history(job.id).find((o) => o.status === "running" && o.runId !== null);
          if (o) (occId = o.id, runId = o.runId!);
          return !!o;
        },
        20_000,
        "a running occurrence with a run record",
      );
      const childPid = s.jobs.getOccurrence(occId).pid!;
      assert.ok(pidAlive(childPid), "the run has its own process");
      sched.kill("SIGKILL");
      await sched.status;
      // The run's process notices its scheduler is gone and records the run interrupted.
      await waitFor(() => s.results.getRun(runId)?.status === "interrupted", 15_000, "the run to be interrupted");
      await waitFor(() => !pidAlive(childPid), 10_000, "the run process to end");
      assert.match(s.results.getRun(runId)!.error!, /scheduler process ended/);
      assert.equal(s.jobs.getOccurrence(occId).status, "running", "nobody has settled the occurrence yet");
    }
    const killedAt = Date.now();
    await using again = new SchedulerProc(s.results.path, ["--grace", "30"]);
    await waitFor(() => s.jobs.getOccurrence(occId).status === "interrupted", 20_000, "recovery of the occurrence");
    assert.match(s.jobs.getOccurrence(occId).reason!, /scheduler ended while this run was going/);
    // The new scheduler advances the next due time past the downtime (in the same tick, a moment later).
    await waitFor(() => s.jobs.getJob(job.id).nextDueAt! > killedAt, 10_000, "the next due time to move on");
    const j = s.jobs.getJob(job.id);
    assert.equal(j.removedAt, null, "job not lost");
    assert.equal(j.nextDueAt! % 2000, 0, "and on the cron's 2-second grid");
    assert.equal(j.nextDueAt, parseCron(j.cron, j.tz).nextAfter(j.nextDueAt! - 2000));
    await waitFor(
      () => s.jobs.history(job.id).some((o) => o.id > occId && o.status === "running"),
      20_000,
      "the next occurrence to run",
    );
    const times = s.jobs.history(job.id, 1000).map((o) => o.scheduledAt);
    assert.equal(new Set(times).size, times.length, "no due time recorded twice");
    assert.ok(new Lease(s.jobs.db).holder()?.pid === again.pid);
    assert.equal(readMarks(marks).length, 0, "no long run completed (each was interrupted)");
  },
});

Deno.test({
  name: "two scheduler processes on one store: only the lease holder dispatches; a standby takes over after kill -9",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    using s = openJobs(dir.path);
    const pb = writePlaybook(dir.path, "tick");
    const marks = join(dir.path, "marks");
    const job = await addJob(s.jobs, { playbook: pb, cron: "* * * * * *", params: { marker: marks } });
    await using a = new SchedulerProc(s.results.path, ["--lease-ttl", "10", "--max-concurrent", "8"]);
    await using b = new SchedulerProc(s.results.path, ["--lease-ttl", "10", "--max-concurrent", "8"]);
    const lease = new Lease(s.jobs.db);
    await waitFor(() => s.jobs.history(job.id, 100).filter((o) => o.status === "ok").length >= 3, 30_000, "3 runs");
    const first = lease.holder()!;
    const holderProc = first.pid === a.pid ? a : b;
    const standby = holderProc === a ? b : a;
    assert.ok([a.pid, b.pid].includes(first.pid));
    const byScheduler = new Set(s.jobs.history(job.id, 1000).filter((o) => o.scheduler).map((o) => o.scheduler));
    assert.deepEqual([...byScheduler], [first.holder], "every run was dispatched by the lease holder");
    holderProc.kill("SIGKILL");
    await holderProc.status;
    await waitFor(() => lease.holder()?.pid === standby.pid, 15_000, "the standby to take the lease");
    const second = lease.holder()!.holder;
    await waitFor(
      () => s.jobs.history(job.id, 1000).some((o) => o.scheduler === second && o.status === "ok"),
      20_000,
      "a run dispatched by the standby",
    );
    standby.kill("SIGTERM");
    await standby.status;
    const occ = s.jobs.history(job.id, 1000);
    const times = occ.map((o) => o.scheduledAt);
    assert.equal(new Set(times).size, times.length, "each due time recorded once");
    const ran = occ.filter((o) => o.status === "ok");
    assert.equal(readMarks(marks).length, ran.length, "each recorded run ran exactly once");
    for (const o of occ) assert.ok(o.scheduler === null || [first.holder, second].includes(o.scheduler));
  },
});

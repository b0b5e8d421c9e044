import assert from "node:assert/strict";
import { join } from "node:path";
import { addJob } from "../../../lib/schedule/add_job.ts";
import { Scheduler } from "../../../lib/schedule/scheduler.ts";
import { SubprocessDispatcher } from "../../../lib/schedule/subprocess_dispatcher.ts";
import { tempDir } from "../../_helpers.ts";
import { openJobs, waitFor, writePlaybook } from "../../unit/schedule/_fixtures.ts";

Deno.test({
  name: "subprocess dispatch: a crashing run does not take the scheduler down; a hanging run hits its timeout",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    using s = openJobs(dir.path);
    const pb = writePlaybook(dir.path, "child");
    const marks = join(dir.path, "marks");
    const crash = await addJob(s.jobs, { playbook: pb, cron: "*/2 * * * * *", name: "crash", params: { crash: true } });
    const hang = await addJob(s.jobs, {
      playbook: pb,
      cron: "*/2 * * * * *",
      name: "hang",
      params: { sleepMs: 120_000 },
      timeoutS: 1,
    });
    const fine = await addJob(s.jobs, { playbook: pb, cron: "*/2 * * * * *", name: "fine", params: { marker: marks } });
    const logs: string[] = [];
    const scheduler = new Scheduler({
      results: s.results,
      dispatcher: new SubprocessDispatcher(s.results.path, { killGraceMs: 3_000 }),
      tickMs: 100,
      log: (l) => logs.push(l),
    });
    const ctrl = new AbortController();
    const loop = scheduler.run(ctrl.signal);
    try {
      const final = (id: number) => s.jobs.history(id, 50).find((o) => !["pending", "running"].includes(o.status));
      await waitFor(() => !!final(crash.id) && !!final(hang.id), 30_000, "the crash and the timeout");
      const c = final(crash.id)!;
      assert.equal(c.status, "failed");
      assert.match(c.reason!, /run process was killed by SIGKILL/);
      assert.equal(s.results.getRun(c.runId!)!.status, "interrupted", "the crashed run's record is closed");
      const h = final(hang.id)!;
      assert.equal(h.status, "failed");
      assert.match(h.reason!, /timed out after 1 s/);
      const hr = s.results.getRun(h.runId!)!;
      assert.equal(hr.status, "interrupted");
      assert.match(hr.error!, /timed out after 1 s/);
      // The scheduler went on: the healthy job keeps running on schedule.
      const before = s.jobs.history(fine.id, 50).filter((o) => o.status === "ok").length;
      await waitFor(
        () => s.jobs.history(fine.id, 50).filter((o) => o.status === "ok").length >= before + 1,
        20_000,
        "another healthy run after the crash",
      );
    } finally {
      ctrl.abort();
      await loop;
    }
    assert.equal(s.jobs.history(hang.id, 50).filter((o) => o.status === "running").length, 0, "nothing left running");
  },
});

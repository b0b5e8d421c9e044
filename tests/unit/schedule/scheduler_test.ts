import assert from "node:assert/strict";
import { join } from "node:path";
import { addJob, type AddJobInput } from "../../../lib/schedule/add_job.ts";
import { ManualClock } from "../../../lib/schedule/clock.ts";
import { InProcessDispatcher } from "../../../lib/schedule/in_process_dispatcher.ts";
import { Scheduler, type SchedulerOptions } from "../../../lib/schedule/scheduler.ts";
import { tempDir } from "../../_helpers.ts";
import { openJobs, readMarks, writePlaybook } from "./_fixtures.ts";

const T0 = Date.parse("2026-05-01T00:00:00Z");

function setup(dir: string, opts: Partial<SchedulerOptions> = {}) {
  const s = openJobs(dir);
  const clock = new ManualClock(T0 - 500);
  const pb = writePlaybook(dir, "probe");
  const scheduler = new Scheduler({
    results: s.results,
    dispatcher: new InProcessDispatcher(s.results),
    clock,
    log: () => {},
    ...opts,
  });
  const add = (input: Partial<AddJobInput>) =>
    addJob(s.jobs, { playbook: pb, cron: "*/10 * * * * *", ...input }, clock.now());
  return { ...s, clock, scheduler, add };
}

Deno.test("scheduler: a due time is recorded once, run once, and the next due time follows the cron", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const marker = join(dir.path, "marks");
  const job = await t.add({ params: { marker } });
  assert.equal(job.nextDueAt, T0);
  assert.deepEqual(t.scheduler.tick(), { leader: true, enqueued: 0, dispatched: 0 }, "not due yet");
  t.clock.set(T0 + 200);
  assert.deepEqual(t.scheduler.tick(), { leader: true, enqueued: 1, dispatched: 1 });
  assert.deepEqual(t.scheduler.tick(), { leader: true, enqueued: 0, dispatched: 0 }, "idempotent");
  await t.scheduler.idle();
  const [occ] = t.jobs.history(job.id);
  assert.equal(occ.status, "ok");
  assert.equal(occ.scheduledAt, T0);
  assert.equal(occ.dispatchedAt! - occ.scheduledAt, 200, "lateness recorded");
  assert.equal(t.results.getRun(occ.runId!)?.status, "ok");
  assert.equal(t.jobs.getJob(job.id).nextDueAt, T0 + 10_000);
  assert.equal(readMarks(marker).length, 1);
  // A duplicate (job, time) cannot be recorded.
  assert.equal(
    t.jobs.recordOccurrence({ jobId: job.id, scheduledAt: T0, kind: "cron", status: "pending", readyAt: T0 }),
    null,
  );
});

Deno.test("scheduler: clock jumps forward apply the catch-up policy; backward jumps never rerun a due time", async () => {
  using dir = tempDir();
  const t = setup(dir.path, { graceMs: 2_000 });
  using _ = t;
  const skip = await t.add({ name: "skipper", catchUp: "skip" });
  const once = await t.add({ name: "onceler", catchUp: "once" });
  t.clock.set(T0 + 100);
  t.scheduler.tick();
  await t.scheduler.idle();
  // Jump one hour ahead (e.g. NTP step or suspended host): 360 due times passed.
  t.clock.set(T0 + 3_600_000 + 5_000);
  t.scheduler.tick();
  await t.scheduler.idle();
  const hs = t.jobs.history(skip.id, 1000);
  assert.equal(hs.filter((o) => o.status === "ok").length, 1, "skip: nothing extra ran");
  const missed = hs.filter((o) => o.status === "missed");
  assert.equal(missed.length, 50, "the last 50 missed times are recorded individually");
  assert.match(missed[0].reason!, /catch-up skip.*360 due times missed/);
  const ho = t.jobs.history(once.id, 1000);
  const catchUp = ho.filter((o) => o.kind === "catch-up");
  assert.equal(catchUp.length, 1, "once: exactly one catch-up run");
  assert.equal(catchUp[0].status, "ok");
  assert.equal(catchUp[0].scheduledAt, T0 + 3_600_000, "the latest missed time");
  assert.equal(t.jobs.getJob(skip.id).nextDueAt, T0 + 3_610_000);
  // Jump back 30 minutes: due times that already have occurrences must not run again.
  const before = t.jobs.history(once.id, 1000).length;
  t.clock.set(T0 + 1_800_000);
  for (let i = 0; i < 3; i++) t.scheduler.tick();
  await t.scheduler.idle();
  assert.equal(t.jobs.history(once.id, 1000).length, before, "no new occurrences after going back in time");
  // Walking forward again picks up exactly the next unseen time.
  t.clock.set(T0 + 3_610_000 + 100);
  t.scheduler.tick();
  await t.scheduler.idle();
  const latest = t.jobs.history(once.id, 1)[0];
  assert.equal(latest.scheduledAt, T0 + 3_610_000);
  assert.equal(latest.kind, "cron");
  assert.equal(latest.status, "ok");
});

Deno.test("scheduler: overlapping jobs never share a node; the later waits, or is skipped past its lock wait", async () => {
  using dir = tempDir();
  const t = setup(dir.path, { maxConcurrent: 8 });
  using _ = t;
  const marks = join(dir.path, "marks");
  const a = await t.add({ name: "a", nodes: ["n1", "n2"], params: { sleepMs: 400, marker: marks } });
  const b = await t.add({ name: "b", nodes: ["n2"], params: { sleepMs: 100, marker: marks }, lockWaitS: 60 });
  const c = await t.add({ name: "c", nodes: ["n1"], params: { sleepMs: 100 }, lockWaitS: 0 });
  const d = await t.add({ name: "d", nodes: ["n3"], params: { sleepMs: 100, marker: marks } });
  t.clock.set(T0 + 10);
  assert.equal(t.scheduler.tick().dispatched, 2, "a and d start; b waits; c is skipped");
  const sc = t.jobs.history(c.id)[0];
  assert.equal(sc.status, "skipped");
  assert.match(sc.reason!, /nodes busy .*lock wait of 0 s: n1 \(job "a"/);
  assert.equal(t.jobs.history(b.id)[0].status, "pending");
  while (t.jobs.history(b.id)[0].status !== "ok") {
    t.scheduler.tick();
    await new Promise((r) => setTimeout(r, 20));
  }
  await t.scheduler.idle();
  const [ra, rb] = [t.jobs.history(a.id)[0], t.jobs.history(b.id)[0]];
  const runA = t.results.getRun(ra.runId!)!;
  const runB = t.results.getRun(rb.runId!)!;
  assert.ok(runB.started_at >= runA.ended_at!, "b started only after a ended");
  assert.equal(readMarks(marks).length, 3);
  assert.equal(t.jobs.history(d.id)[0].status, "ok");
});

Deno.test("scheduler: the concurrency limit holds", async () => {
  using dir = tempDir();
  const t = setup(dir.path, { maxConcurrent: 2 });
  using _ = t;
  const marks = join(dir.path, "marks");
  for (const n of ["j1", "j2", "j3", "j4", "j5"]) await t.add({ name: n, params: { sleepMs: 150, marker: marks } });
  t.clock.set(T0 + 10);
  let maxActive = 0;
  while (readMarks(marks).length < 5) {
    t.scheduler.tick();
    maxActive = Math.max(maxActive, t.scheduler.activeCount);
    await new Promise((r) => setTimeout(r, 10));
  }
  await t.scheduler.idle();
  assert.equal(maxActive, 2);
  const m = readMarks(marks).sort((x, y) => x.start - y.start);
  for (let i = 2; i < m.length; i++) assert.ok(m[i].start >= m[i - 2].end - 5, "never three at once");
});

Deno.test("scheduler: retries with exponential backoff, runs linked; failure then recovery notifications", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const notes = join(dir.path, "notes.jsonl");
  const counter = join(dir.path, "count");
  const job = await t.add({
    name: "flaky",
    params: { failUntil: 4, counterFile: counter },
    retries: 2,
    backoffS: 5,
    notifyFile: notes,
    notifyCmd: `cat >> ${join(dir.path, "cmd.jsonl")}; echo "$HYPERLAB_EVENT $HYPERLAB_JOB" >> ${
      join(dir.path, "env")
    }`,
  });
  const step = async (at: number) => {
    t.clock.set(at);
    t.scheduler.tick();
    await t.scheduler.idle();
  };
  await step(T0 + 1);
  let occ = t.jobs.history(job.id)[0];
  assert.equal(occ.status, "pending");
  assert.equal(occ.attempts, 1);
  assert.equal(occ.readyAt, T0 + 1 + 5_000, "first retry after the backoff");
  await step(T0 + 4_000);
  assert.equal(t.jobs.history(job.id)[0].attempts, 1, "not before the backoff");
  await step(T0 + 5_001);
  occ = t.jobs.history(job.id)[0];
  assert.equal(occ.attempts, 2);
  assert.equal(occ.readyAt, T0 + 5_001 + 10_000, "backoff doubles");
  await step(T0 + 15_001 - 1_000); // the cron time T0+10s also falls due here: its own occurrence
  await step(T0 + 15_001);
  occ = t.jobs.getOccurrence(occ.id);
  assert.equal(occ.status, "failed", "retries exhausted");
  assert.equal(occ.attempts, 3);
  const run = t.results.getRun(occ.runId!)!;
  assert.ok(run.parent_run, "the retry's run records the run it retries");
  assert.match(occ.reason!, /flaky failure/);
  // Next cron times: counter passes failUntil → ok, a recovery notification.
  while (t.jobs.history(job.id, 1)[0].status !== "ok" || t.jobs.getJob(job.id).lastFinal !== "ok") {
    await step(t.clock.now() + 5_000);
  }
  const lines = Deno.readTextFileSync(notes).trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.event === "failure" && l.job === "flaky" && /flaky failure/.test(l.reason)));
  assert.equal(lines.at(-1).event, "recovery");
  assert.equal(lines.at(-1).status, "ok");
  const env = Deno.readTextFileSync(join(dir.path, "env"));
  assert.match(env, /failure flaky/);
  assert.match(env, /recovery flaky/);
  assert.equal(Deno.readTextFileSync(join(dir.path, "cmd.jsonl")).trim().split("\n").length, lines.length);
});

Deno.test("scheduler: per-job timeout ends the run (recorded interrupted) and fails the occurrence", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const job = await t.add({ name: "slow", params: { sleepMs: 30_000 }, timeoutS: 0.2 });
  t.clock.set(T0 + 1);
  const started = Date.now();
  t.scheduler.tick();
  await t.scheduler.idle();
  assert.ok(Date.now() - started < 5_000);
  const occ = t.jobs.history(job.id)[0];
  assert.equal(occ.status, "failed");
  assert.match(occ.reason!, /timed out after 0.2 s/);
  assert.equal(t.results.getRun(occ.runId!)!.status, "interrupted");
});

Deno.test("scheduler: a job whose playbook was deleted fails clearly and keeps its history", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const path = writePlaybook(dir.path, "doomed");
  const job = await addJob(t.jobs, { playbook: path, cron: "*/10 * * * * *" }, t.clock.now());
  t.clock.set(T0 + 1);
  t.scheduler.tick();
  await t.scheduler.idle();
  assert.equal(t.jobs.history(job.id)[0].status, "ok");
  Deno.removeSync(path);
  t.clock.set(T0 + 10_001);
  t.scheduler.tick();
  await t.scheduler.idle();
  const h = t.jobs.history(job.id);
  assert.equal(h.length, 2, "history kept");
  assert.equal(h[0].status, "failed");
  assert.match(h[0].reason!, /job "doomed": playbook .*doomed\.ts is gone/);
  assert.equal(h[1].status, "ok");
  assert.ok(t.results.getRun(h[1].runId!), "the earlier run record is still there");
  assert.equal(t.jobs.getJob(job.id).nextDueAt, T0 + 20_000, "still scheduled");
});

Deno.test("scheduler: paused jobs do not run, resumed ones do; removed jobs keep their history", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const job = await t.add({ name: "p" });
  t.jobs.setPaused(job.id, true);
  t.clock.set(T0 + 30_001);
  t.scheduler.tick();
  assert.equal(t.jobs.history(job.id).length, 0);
  t.jobs.setPaused(job.id, false, T0 + 40_000);
  t.clock.set(T0 + 40_001);
  t.scheduler.tick();
  await t.scheduler.idle();
  assert.equal(t.jobs.history(job.id)[0].status, "ok");
  t.jobs.removeJob("p", t.clock.now());
  t.clock.set(T0 + 50_001);
  t.scheduler.tick();
  assert.equal(t.jobs.history(job.id).length, 1);
  assert.equal(t.jobs.getJob(job.id, { includeRemoved: true }).name, "p");
  assert.equal(t.jobs.findJob("p"), undefined);
});

Deno.test("scheduler: only the lease holder dispatches; a standby takes over when the holder releases", async () => {
  using dir = tempDir();
  const t = setup(dir.path);
  using _ = t;
  const other = new Scheduler({
    results: t.results,
    dispatcher: new InProcessDispatcher(t.results),
    clock: t.clock,
    log: () => {},
  });
  const job = await t.add({ name: "leased" });
  t.clock.set(T0 + 1);
  assert.equal(t.scheduler.tick().leader, true);
  assert.deepEqual(other.tick(), { leader: false, enqueued: 0, dispatched: 0 });
  await t.scheduler.shutdown();
  t.clock.set(T0 + 10_001);
  assert.equal(other.tick().leader, true);
  await other.idle();
  const h = t.jobs.history(job.id);
  assert.equal(h.length, 2);
  assert.deepEqual(new Set(h.map((o) => o.scheduler)), new Set([t.scheduler.id, other.id]));
  await other.shutdown();
});

Deno.test("scheduler: due times recorded before a crash but never started follow the catch-up policy", async () => {
  using dir = tempDir();
  const t = setup(dir.path, { graceMs: 2_000 });
  using _ = t;
  const skip = await t.add({ name: "s", catchUp: "skip" });
  const once = await t.add({ name: "o", catchUp: "once" });
  for (const j of [skip, once]) {
    t.jobs.recordOccurrence({ jobId: j.id, scheduledAt: T0, kind: "cron", status: "pending", readyAt: T0 });
    t.jobs.setNextDue(j.id, T0 + 10_000);
  }
  t.clock.set(T0 + 5_000); // a new scheduler starts 5 s later (beyond the grace)
  t.scheduler.tick();
  await t.scheduler.idle();
  const s0 = t.jobs.history(skip.id)[0];
  assert.equal(s0.status, "missed");
  assert.match(s0.reason!, /stopped before starting it; catch-up skip/);
  assert.equal(t.jobs.history(once.id)[0].status, "ok", "catch-up once still runs it");
});

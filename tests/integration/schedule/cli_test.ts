import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../../_helpers.ts";
import { openJobs, writePlaybook } from "../../unit/schedule/_fixtures.ts";
import { scheduleCli, SchedulerProc } from "./_procs.ts";
import { PROJECT_ROOT } from "../../../lib/core/provenance.ts";
import { waitFor } from "../../unit/schedule/_fixtures.ts";

Deno.test("schedule CLI: bad inputs exit 2 naming the flag; nothing is stored", async () => {
  using dir = tempDir();
  const db = join(dir.path, "results.db");
  const pb = writePlaybook(dir.path, "needy", { required: true });
  const cases: [string[], RegExp][] = [
    [
      ["add", pb, "--cron", "61 * * * *", "--need", "x"],
      /--cron: expected a cron expression.*Invalid value for minute/s,
    ],
    [["add", pb, "--cron", "* * * * *"], /need: expected/],
    [["add", pb, "--need", "x"], /--cron: expected a cron expression/],
    [["add", "no-such-playbook", "--cron", "* * * * *"], /playbook: expected a known playbook/],
    [
      ["add", pb, "--cron", "* * * * *", "--need", "x", "--bogus", "1"],
      /--bogus: expected a parameter of playbook needy/,
    ],
    [["add", pb, "--cron", "* * * * *", "--need", "x", "--timeout", "soon"], /--timeout: expected a number/],
    [["add", pb, "--cron", "* * * * *", "--need", "x", "--catch-up", "all"], /--catch-up: expected skip or once/],
    [["add", pb, "--cron", "* * * * *", "--need", "x", "--tz", "Atlantis/Capital"], /--tz: expected an IANA time zone/],
    [["history", "nope"], /job: expected the name or id of a scheduled job/],
    [["frobnicate"], /command: expected add \| list/],
  ];
  for (const [args, re] of cases) {
    const r = await scheduleCli([...args, "--results", db]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
  }
  using s = openJobs(dir.path);
  assert.equal(s.jobs.listJobs().length, 0);
});

Deno.test({
  name: "schedule CLI: add with playbook flags, list, pause/resume, run-now, history, remove; deleted playbook",
  sanitizeResources: false,
  async fn() {
    using dir = tempDir();
    const db = join(dir.path, "results.db");
    const pb = writePlaybook(dir.path, "nightly", { required: true });
    const notes = join(dir.path, "notes.jsonl");
    const add = await scheduleCli([
      "add",
      pb,
      "--cron",
      "0 3 * * *",
      "--tz",
      "Europe/Paris",
      "--name",
      "night",
      "--need",
      "value",
      "--nodes",
      "n1,n2",
      "--retries",
      "0",
      "--notify-file",
      notes,
      "--results",
      db,
    ]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added job "night" \(id 1\); next due \S+T03:00:00 Europe\/Paris/);
    const list = await scheduleCli(["list", "--results", db]);
    assert.match(list.stdout, /night .*0 3 \* \* \* .*Europe\/Paris .*active .*n1,n2/);
    assert.equal((await scheduleCli(["pause", "night", "--results", db])).code, 0);
    assert.match((await scheduleCli(["list", "--results", db])).stdout, /paused/);
    assert.match((await scheduleCli(["resume", "night", "--results", db])).stdout, /resumed job "night"; next due/);

    const now = await scheduleCli(["run-now", "night", "--results", db]);
    assert.equal(now.code, 0, now.stdout + now.stderr);
    assert.match(now.stdout, /occurrence 1: ok \(run 1\)/);
    {
      using s = openJobs(dir.path);
      const run = s.results.getRun(1)!;
      assert.equal(run.status, "ok");
      assert.deepEqual(run.params.need, "value");
      assert.equal((run.host.schedule as { job: string }).job, "night");
    }

    Deno.removeSync(pb);
    const gone = await scheduleCli(["run-now", "1", "--results", db]);
    assert.equal(gone.code, 1);
    assert.match(gone.stdout, /occurrence 2: failed: job "night": playbook .*nightly\.ts is gone/);
    const hist = await scheduleCli(["history", "night", "--results", db]);
    assert.match(hist.stdout, /2 occurrence\(s\)/);
    assert.match(hist.stdout, /manual .*failed/);
    assert.match(hist.stdout, /manual .*ok/);
    const note = JSON.parse(Deno.readTextFileSync(notes).trim());
    assert.equal(note.event, "failure");
    assert.equal(note.job, "night");

    assert.match((await scheduleCli(["remove", "night", "--results", db])).stdout, /history stays/);
    assert.match((await scheduleCli(["list", "--results", db])).stdout, /no scheduled jobs/);
    assert.match((await scheduleCli(["history", "1", "--results", db])).stdout, /\[removed\]: 2 occurrence/);
  },
});

Deno.test({
  name: "schedule CLI: run-now queues for a running scheduler; deno task wiring works",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using dir = tempDir();
    const db = join(dir.path, "results.db");
    const pb = writePlaybook(dir.path, "queued");
    const task = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "schedule", "add", pb, "--cron", "0 0 1 1 *", "--name", "yearly", "--results", db],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(task.code, 0, new TextDecoder().decode(task.stderr));
    assert.match(new TextDecoder().decode(task.stdout), /added job "yearly"/);
    await using sched = new SchedulerProc(db);
    using s = openJobs(dir.path);
    await waitFor(
      () => {
        const r = s.jobs.db.prepare("SELECT pid FROM schedule_lease").get() as { pid: number } | undefined;
        return r?.pid === sched.pid;
      },
      20_000,
      "the scheduler to take the lease",
    );
    const r = await scheduleCli(["run-now", "yearly", "--results", db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`queued occurrence 1 of job "yearly"; the running scheduler \\(pid ${sched.pid}\\)`),
    );
    const status = await scheduleCli(["status", "--results", db]);
    assert.match(status.stdout, new RegExp(`\\(pid ${sched.pid} on \\S+\\) holds the lease`));
    await waitFor(() => s.jobs.history(1)[0]?.status === "ok", 20_000, "the scheduler to run it");
    const js = JSON.parse((await scheduleCli(["history", "yearly", "--json", "--results", db])).stdout);
    assert.equal(js.job.name, "yearly");
    assert.equal(js.occurrences[0].status, "ok");
    assert.equal(s.jobs.history(1)[0].kind, "manual");
  },
});

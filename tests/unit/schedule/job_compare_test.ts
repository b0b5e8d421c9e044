import assert from "node:assert/strict";
import { join } from "node:path";
import { HyperlabError } from "../../../lib/core/errors.ts";
import { addJob } from "../../../lib/schedule/add_job.ts";
import { ManualClock } from "../../../lib/schedule/clock.ts";
import { InProcessDispatcher } from "../../../lib/schedule/in_process_dispatcher.ts";
import { compareJobRuns } from "../../../lib/schedule/job_compare.ts";
import { scheduleCommand } from "../../../lib/schedule/schedule_cli.ts";
import { Scheduler } from "../../../lib/schedule/scheduler.ts";
import { tempDir } from "../../_helpers.ts";
import { openJobs } from "./_fixtures.ts";

const T0 = Date.parse("2026-06-01T00:00:00Z");

Deno.test("schedule compare: the latest nightly run against the previous one, flagged only beyond noise", async () => {
  using dir = tempDir();
  const s = openJobs(dir.path);
  using _ = s;
  const shiftFile = join(dir.path, "shift");
  const pb = join(dir.path, "nightly.ts");
  Deno.writeTextFileSync(
    pb,
    `import { z } from "zod";
import { definePlaybook } from "${new URL("../../../lib/core/playbook.ts", import.meta.url).href}";
import { repeat } from "${new URL("../../../lib/report/repeat.ts", import.meta.url).href}";
export default definePlaybook({
  name: "nightly", description: "measures", params: z.object({ shiftFile: z.string() }),
  async run(ctx) {
    const shift = Number(Deno.readTextFileSync(ctx.params.shiftFile));
    await repeat(ctx, "latency", 6, { warmup: 1, unit: "ms" }, ({ index }) => 100 + shift + (index % 3));
    ctx.metric("build", 1);
  },
});
`,
  );
  const clock = new ManualClock(T0 - 1);
  const notes = join(dir.path, "notes.jsonl");
  const job = await addJob(
    s.jobs,
    { playbook: pb, cron: "0 3 * * *", params: { shiftFile }, notifyFile: notes },
    clock.now(),
  );
  const sched = new Scheduler({
    results: s.results,
    dispatcher: new InProcessDispatcher(s.results),
    clock,
    log: () => {},
  });
  const night = async (n: number, shift: number) => {
    Deno.writeTextFileSync(shiftFile, String(shift));
    clock.set(T0 + 3 * 3_600_000 + n * 86_400_000 + 10);
    sched.tick();
    await sched.idle();
  };
  await night(0, 0);
  assert.throws(
    () => compareJobRuns(s.jobs, job.id),
    (e) => e instanceof HyperlabError && /1 successful run/.test(e.message),
  );
  await night(1, 0.5);
  let cmp = compareJobRuns(s.jobs, job.name);
  assert.equal(cmp.rows.find((r) => r.metric === "latency")!.significant, false, "0.5 ms is within the noise");
  let exists = true;
  try {
    Deno.statSync(notes);
  } catch {
    exists = false;
  }
  assert.equal(exists, false, "no notification while nothing changed");
  await night(2, 10);
  cmp = compareJobRuns(s.jobs, job.name);
  const lat = cmp.rows.find((r) => r.metric === "latency")!;
  assert.equal(lat.significant, true);
  assert.ok(lat.deltaPct! > 9);
  assert.equal(cmp.rows.find((r) => r.metric === "build")!.significant, null);
  const note = JSON.parse(Deno.readTextFileSync(notes).trim());
  assert.equal(note.event, "change");
  assert.equal(note.changes.length, 1);
  assert.equal(note.changes[0].metric, "latency");
  assert.equal(note.changes[0].previousRun, cmp.runs[0]);
  assert.ok(note.changes[0].mean - note.changes[0].previousMean > 9);
  const out: string[] = [];
  const code = await scheduleCommand(["compare", "nightly", "--fail-on-change", "--results", s.results.path], {
    out: (t) => out.push(t),
  });
  assert.equal(code, 1);
  assert.match(out.join("\n"), /latency .*CHANGED \(beyond noise\)/);
  assert.match(out.join("\n"), /1 metric\(s\) changed beyond noise/);
  await sched.shutdown();
});

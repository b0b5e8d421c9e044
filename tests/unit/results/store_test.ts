import assert from "node:assert/strict";
import { join } from "node:path";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { ROOT } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("a run killed mid-way (SIGKILL) is shown as interrupted with everything recorded up to then", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const script = join(dir.path, "victim.ts");
  await Deno.writeTextFile(
    script,
    `import { ResultsStore } from "${ROOT}lib/results/store.ts";
const s = ResultsStore.open(${JSON.stringify(db)});
const run = s.createRun({ playbook: "victim", params: { a: 1 } });
const st = s.startStep(run, 1, "first");
s.metric(run, "before-kill", 42, "ms");
s.log(run, "info", "about to hang", st);
s.endStep(st, "ok");
s.startStep(run, 2, "hangs");
console.log("READY " + run);
await new Promise(() => {});
`,
  );
  const child = new Deno.Command(Deno.execPath(), { args: ["run", "-A", script], stdout: "piped", stderr: "inherit" })
    .spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("READY")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  const runId = Number(/READY (\d+)/.exec(text)![1]);
  using s = ResultsStore.open(db);
  const run = s.getRun(runId)!;
  assert.equal(run.status, "interrupted");
  assert.match(run.error!, /killed or crashed/);
  assert.deepEqual(s.steps(runId).map((x) => [x.name, x.status]), [["first", "ok"], ["hangs", "interrupted"]]);
  assert.equal(s.metrics(runId)[0].value, 42);
  assert.equal(s.logs(runId)[0].message, "about to hang");
});

Deno.test("a corrupt results file gives one clear error naming the file", () => {
  using dir = tempDir();
  const db = join(dir.path, "bad.db");
  Deno.writeTextFileSync(db, "this is not sqlite at all, just text ".repeat(200));
  assert.throws(
    () => ResultsStore.open(db),
    (e: unknown) =>
      e instanceof HyperlabError && e.code === "store" && e.message.includes(db) && /corrupt/.test(e.message),
  );
  assert.equal(Deno.readTextFileSync(db).slice(0, 12), "this is not ", "the corrupt file is left as it was");
});

Deno.test("an unwritable results location gives an InputError naming the path", () => {
  assert.throws(
    () => ResultsStore.open("/proc/hyperlab-no/results.db"),
    (e: unknown) => e instanceof InputError && e.message.includes("/proc/hyperlab-no"),
  );
});

Deno.test("a store from a newer hyperlab is refused, not silently misread", () => {
  using dir = tempDir();
  const db = join(dir.path, "new.db");
  ResultsStore.open(db).close();
  {
    using s = ResultsStore.open(db);
    s.db.prepare("UPDATE meta SET value='999' WHERE key='schema_version'").run();
  }
  assert.throws(() => ResultsStore.open(db), /schema version 999/);
});

Deno.test("close is idempotent and list filters by playbook and status", () => {
  const s = ResultsStore.open(":memory:");
  const a = s.createRun({ playbook: "a", params: {} });
  s.createRun({ playbook: "b", params: {} });
  s.finishRun(a, "failed", "x");
  assert.deepEqual(s.listRuns({ playbook: "a" }).map((r) => r.id), [a]);
  assert.deepEqual(s.listRuns({ status: "failed" }).map((r) => r.playbook), ["a"]);
  s.close();
  s.close();
});

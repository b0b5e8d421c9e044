import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsStore } from "../../../lib/results/store.ts";
import { cli } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("--inventory: the CLI records the inventory with secrets masked and fails early on a bad one", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const secretFile = join(dir.path, "ipmi.pass");
  await Deno.writeTextFile(secretFile, "s3cret-bmc-pass\n");
  const inv = join(dir.path, "inv.yaml");
  await Deno.writeTextFile(
    inv,
    `nodes:\n  - name: here\n    host: 127.0.0.1\n    local: true\n    ipmi: { host: 127.0.0.1, user: admin, password: { file: ${secretFile} } }\n`,
  );
  const ok = await cli("play", [
    "cluster/run",
    "--inventory",
    inv,
    "--command",
    "echo s3cret-bmc-pass",
    "--json",
    "--results",
    db,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.deepEqual(out.result.ok, ["here"]);
  using s = ResultsStore.open(db);
  const run = s.getRun(out.runId)!;
  assert.equal((run.inventory as { nodes: { name: string }[] }).nodes[0].name, "here");
  const everything = JSON.stringify([run, s.logs(out.runId), s.steps(out.runId), s.metrics(out.runId)]);
  assert.ok(!everything.includes("s3cret-bmc-pass"), "the IPMI password never reaches the record");
  assert.ok(everything.includes("***"), "the echoed secret is masked in the log");

  await Deno.writeTextFile(inv, `nodes:\n  - name: here\n    host: 127.0.0.1\n    port: seventy\n`);
  const bad = await cli("play", ["cluster/run", "--inventory", inv, "--command", "true", "--results", db]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /node "here" port/);
  assert.equal(s.listRuns().length, 1, "a bad inventory fails before a run is recorded");
});

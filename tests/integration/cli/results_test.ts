import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, fixture } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("results list | show | export --csv/--json | compare | artifact, and their bad input", async () => {
  using dir = tempDir();
  const db = ["--results", join(dir.path, "r.db")];
  for (const count of ["2", "3"]) {
    const r = await cli("play", [fixture("demo"), "--name", "n", "--count", count, ...db]);
    assert.equal(r.code, 0, r.stderr);
  }
  const list = await cli("results", ["list", ...db]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /│ 2 +│ demo +│ ok/);
  const show = await cli("results", ["show", "1", ...db]);
  assert.match(show.stdout, /run 1 · demo · ok/);
  assert.match(show.stdout, /greet 1/);
  assert.match(show.stdout, /greeting\.txt/);
  const csv = await cli("results", ["export", "2", "--csv", ...db]);
  assert.equal(csv.stdout.trim().split("\n").length, 4);
  assert.match(csv.stdout, /^ts,name,value,unit,tags\n.*,latency,10,ms,"\{""i"":""0""\}"/);
  const json = JSON.parse((await cli("results", ["export", "2", "--json", ...db])).stdout);
  assert.equal(json.steps.length, 3);
  const cmp = await cli("results", ["compare", "1", "2", "--json", ...db]);
  const rows = JSON.parse(cmp.stdout).rows;
  const lat = rows.find((r: { metric: string }) => r.metric === "latency{i=2}");
  assert.deepEqual(lat.cells.map((c: unknown) => c === null), [true, false]);
  const out = join(dir.path, "g.txt");
  assert.equal((await cli("results", ["artifact", "1", "greeting.txt", "--out", out, ...db])).code, 0);
  assert.equal(await Deno.readTextFile(out), "hello n");

  const bad: [string[], RegExp][] = [
    [["show", "77"], /<id>: expected a recorded run/],
    [["show", "x"], /<id>: expected a run id/],
    [["export", "1"], /export format: expected exactly one of --csv or --json/],
    [["compare", "1"], /compare: expected at least two run ids/],
    [["frobnicate"], /command: expected list, show, export, compare, report or artifact/],
    [["list", "--status", "meh"], /--status: expected ok, failed, interrupted or running/],
  ];
  for (const [args, re] of bad) {
    const r = await cli("results", [...args, ...db]);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, re);
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsStore } from "../../../lib/results/store.ts";
import { cli, fixture, ROOT } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("play --list shows the bundled playbooks with descriptions", async () => {
  const r = await cli("play", ["--list"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /quickstart\s+Host facts/);
});

Deno.test("play <name> --help shows flags with types, defaults, choices and help text", async () => {
  const r = await cli("play", [fixture("demo"), "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--name <string>\s+who to greet \(required\)/);
  assert.match(r.stdout, /--count <integer>\s+how many steps \(default: 2\)/);
  assert.match(r.stdout, /--mode <fast\|slow\|fail\|hang>/);
  assert.match(r.stdout, /--verbose-log, --no-verbose-log/);
  assert.match(r.stdout, /--dry-run/);
});

Deno.test("play runs a playbook, records it and prints a JSON result with --json", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const r = await cli("play", [fixture("demo"), "--name", "ada", "--count", "3", "--json", "--results", db]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, "ok");
  assert.equal(out.playbook, "demo");
  assert.deepEqual(out.params.name, "ada");
  assert.equal(out.steps.length, 3);
  assert.deepEqual(out.metrics.map((m: { value: number }) => m.value), [10, 11, 12]);
  assert.deepEqual(out.result, { greeted: "ada", ratios: [1, 0.5] });
  assert.match(out.gitCommit ?? "", /^[0-9a-f]{40}/);
  using s = ResultsStore.open(db);
  assert.equal(s.getRun(out.runId)!.status, "ok");
  assert.equal(s.artifacts(out.runId)[0].name, "greeting.txt");
});

Deno.test("plain output (not a TTY) prints step lines", async () => {
  using dir = tempDir();
  const r = await cli("play", [fixture("demo"), "--name", "x", "--verbose-log", "--results", join(dir.path, "r.db")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /▶ greet 0/);
  assert.match(r.stderr, /✓ greet 1 \(/);
  assert.match(r.stderr, /hello x #1/);
  assert.match(r.stderr, /run \d+ ok in/);
});

Deno.test("--dry-run prints the plan and performs nothing", async () => {
  using dir = tempDir();
  const marker = join(dir.path, "cleanup.txt");
  const r = await cli("play", [
    fixture("demo"),
    "--name",
    "x",
    "--dry-run",
    "--marker",
    marker,
    "--results",
    join(dir.path, "r.db"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Plan of run \d+ \(dry run, nothing was done\): 2 action\(s\)/);
  assert.match(r.stdout, /\[file\] local: write \/tmp\/demo-0/);
});

Deno.test("bad input: unknown playbook, not a playbook, unknown flag, wrong type, out of range, missing required", async () => {
  using dir = tempDir();
  const db = ["--results", join(dir.path, "r.db")];
  const cases: [string[], RegExp][] = [
    [["no-such-playbook"], /playbook: expected a known playbook name or a path to a module \(got "no-such-playbook"\)/],
    [
      [fixture("not_a_playbook")],
      /not_a_playbook\.ts: playbook: expected a module whose default export is definePlaybook/,
    ],
    [[fixture("demo"), "--name", "x", "--colour", "red"], /--colour: expected a parameter of demo: --name, --count/],
    [[fixture("demo"), "--name", "x", "--count", "lots"], /--count: expected an integer \(got "lots"\)/],
    [[fixture("demo"), "--name", "x", "--count", "1000"], /--count: expected .*100/],
    [
      [fixture("demo"), "--name", "x", "--mode", "warp"],
      /--mode: expected one of fast, slow, fail, hang \(got "warp"\)/,
    ],
    [[fixture("demo")], /--name: expected required parameter \(who to greet\).*\n.*not on a terminal/],
    [["quickstart", "--retry", "abc"], /--retry: expected a run id/],
  ];
  for (const [args, re] of cases) {
    const r = await cli("play", [...args, ...db]);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("error:")).length, 1, "one clear message");
  }
  using s = ResultsStore.open(join(dir.path, "r.db"));
  assert.equal(s.listRuns().length, 0, "no run is recorded for input that fails before the run starts");
});

Deno.test("a failing playbook exits 1 and records the failed step with its error", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const r = await cli("play", [fixture("demo"), "--name", "x", "--mode", "fail", "--results", db]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /✗ explode .* failed: Error: boom in step/);
  using s = ResultsStore.open(db);
  const run = s.listRuns()[0];
  assert.equal(run.status, "failed");
  assert.match(run.error!, /boom in step/);
});

Deno.test("unwritable and corrupt results stores give one clear message and exit 2", async () => {
  using dir = tempDir();
  const corrupt = join(dir.path, "corrupt.db");
  await Deno.writeTextFile(corrupt, "garbage ".repeat(1000));
  const a = await cli("play", [fixture("demo"), "--name", "x", "--results", corrupt]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /corrupt\.db is corrupt or not a SQLite database/);
  const b = await cli("play", [fixture("demo"), "--name", "x", "--results", "/proc/nope/r.db"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /results path: expected a writable location/);
});

Deno.test("Ctrl-C during a step: exit 130, cleanup runs, run recorded as interrupted", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const marker = join(dir.path, "cleanup.txt");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "lib/cli/play_main.ts",
      fixture("demo"),
      "--name",
      "x",
      "--mode",
      "hang",
      "--marker",
      marker,
      "--results",
      db,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  let err = "";
  while (!err.includes("READY-TO-INTERRUPT")) {
    const { value, done } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  child.kill("SIGINT");
  const rest = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      err += new TextDecoder().decode(value);
    }
  };
  await rest();
  const st = await child.status;
  assert.equal(st.code, 130, err);
  assert.match(await Deno.readTextFile(marker), /cleanup ran/);
  using s = ResultsStore.open(db);
  const run = s.listRuns()[0];
  assert.equal(run.status, "interrupted");
  assert.deepEqual(s.steps(run.id).map((x) => x.status), ["ok", "ok", "interrupted"]);
  assert.equal(s.metrics(run.id).length, 2);
});

Deno.test("--retry reruns with the recorded parameters and links the runs", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  const first = await cli("play", [
    fixture("demo"),
    "--name",
    "grace",
    "--count",
    "1",
    "--mode",
    "fail",
    "--results",
    db,
  ]);
  assert.equal(first.code, 1);
  const id = Number(/run (\d+)/.exec(first.stderr)![1]);
  const again = await cli("play", [
    fixture("demo"),
    "--retry",
    String(id),
    "--mode",
    "fast",
    "--json",
    "--results",
    db,
  ]);
  assert.equal(again.code, 0, again.stderr);
  const out = JSON.parse(again.stdout);
  assert.equal(out.params.name, "grace");
  assert.equal(out.params.count, 1);
  using s = ResultsStore.open(db);
  assert.equal(s.getRun(out.runId)!.parent_run, id);
});

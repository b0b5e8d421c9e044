import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, fixture, ROOT } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

async function repl(args: string[], input: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "lib/cli/repl_main.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("repl preloads the API as hl and opens the given results store", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  assert.equal((await cli("play", [fixture("demo"), "--name", "repl-user", "--results", db])).code, 0);
  const r = await repl(["--results", db], "results.listRuns()[0].params.name\ntypeof hl.definePlaybook\nclose()\n");
  assert.match(r.out, /hyperlab REPL: hl = public API/);
  assert.match(r.out, new RegExp(db.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
  assert.match(r.out, /"repl-user"/);
  assert.match(r.out, /"function"/);
});

Deno.test("repl rejects unknown options naming them", async () => {
  const r = await repl(["--colour", "x"], "close()\n");
  assert.equal(r.code, 2);
  assert.match(r.out, /--colour: expected one of --results <file>, --inventory <file\|lab>, --limit <expr>/);
});

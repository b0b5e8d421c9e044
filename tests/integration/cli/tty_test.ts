import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsStore } from "../../../lib/results/store.ts";
import { fixture, ROOT } from "../../_cli.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

/** One interaction: wait until the screen shows `waitFor`, then type `send`. */
interface Keys {
  waitFor: RegExp;
  send: string;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Runs a command under a pseudo-terminal (util-linux `script`), typing keys when the screen shows a prompt. */
async function onTty(cmd: string, keys: Keys[]): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    cwd: ROOT,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH")!, HOME: Deno.env.get("HOME") ?? "/root", TERM: "xterm", COLUMNS: "120" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout) out += new TextDecoder().decode(chunk).replace(ANSI, "");
  })();
  const w = child.stdin.getWriter();
  for (const k of keys) {
    const t0 = Date.now();
    while (!k.waitFor.test(out) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    await w.write(new TextEncoder().encode(k.send));
  }
  const status = await child.status;
  await reading;
  await child.stderr.cancel();
  clearTimeout(killer);
  await w.close().catch(() => {});
  return { code: status.code, out };
}

const deno = `${Deno.execPath()} run -A --quiet lib/cli/play_main.ts`;

Deno.test({
  name: "on a TTY, missing required parameters are prompted for and steps are shown live",
  ignore: skipIf(needCommand("script", "util-linux")),
  async fn() {
    using dir = tempDir();
    const db = join(dir.path, "r.db");
    const r = await onTty(`${deno} ${fixture("demo")} --results ${db}`, [{ waitFor: /--name/, send: "ada\r" }]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /--name \(who to greet\) <string>/);
    assert.match(r.out, /✓ greet 1 \(/);
    using s = ResultsStore.open(db);
    assert.equal(s.listRuns()[0].params.name, "ada");
  },
});

Deno.test({
  name: "on a TTY an invalid answer is refused by the prompt's validation, naming the flag",
  ignore: skipIf(needCommand("script", "util-linux")),
  async fn() {
    using dir = tempDir();
    const pb = join(dir.path, "needs_int.ts");
    await Deno.writeTextFile(
      pb,
      `import { z } from "zod";\nimport { definePlaybook } from "${ROOT}lib/core/playbook.ts";\n` +
        `export default definePlaybook({ name: "needs-int", description: "d", params: z.object({ n: z.number().int() }), run(ctx) { return ctx.params.n; } });\n`,
    );
    const r = await onTty(`${deno} ${pb} --results ${join(dir.path, "r.db")}`, [
      { waitFor: /--n <integer>/, send: "abc\r" },
      { waitFor: /expected an integer/, send: "\x03" },
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /--n: expected an integer \(got "abc"\)/);
  },
});

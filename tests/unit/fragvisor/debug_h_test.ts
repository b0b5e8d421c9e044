import assert from "node:assert/strict";
import { join } from "node:path";
import { DEBUG_H, debugHCommands, editDebugH, ORIGIN_DEFINE } from "../../../lib/fragvisor/mod.ts";
import { tempDir } from "../../_helpers.ts";

const DEBUG = `#ifndef __POPCORN_DEBUG_H__
#define __POPCORN_DEBUG_H__
#define POPHYPE_HOST_KERNEL 1
#define CONFIG_POPCORN_ORIGIN_NODE
#define PERF_EXP 0
#endif
`;

async function sh(cwd: string, script: string) {
  const o = await new Deno.Command("/bin/sh", { args: ["-c", script], cwd, stderr: "piped" }).output();
  return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
}

function tree(dir: string, text = DEBUG): string {
  Deno.mkdirSync(join(dir, "include/popcorn"), { recursive: true });
  Deno.writeTextFileSync(join(dir, DEBUG_H), text);
  return join(dir, DEBUG_H);
}

Deno.test("non-origin: the seed's sed drops the define, and the real sed agrees with editDebugH", async () => {
  using d = tempDir();
  const f = tree(d.path);
  const cmds = debugHCommands({ origin: false });
  assert.equal(cmds[0], "sed -i 's/#define CONFIG_POPCORN_ORIGIN_NODE//' include/popcorn/debug.h");
  const r = await sh(d.path, cmds.join(" && "));
  assert.equal(r.code, 0, r.stderr);
  const after = Deno.readTextFileSync(f);
  assert.equal(after, editDebugH(DEBUG, { origin: false }));
  assert.ok(!after.includes(ORIGIN_DEFINE));
  assert.ok(after.includes("#define PERF_EXP 0"));
});

Deno.test("origin keeps the define; perfExp sets PERF_EXP 1 on both roles", async () => {
  for (const origin of [true, false]) {
    using d = tempDir();
    const f = tree(d.path);
    const r = await sh(d.path, debugHCommands({ origin, perfExp: true }).join(" && "));
    assert.equal(r.code, 0, r.stderr);
    const after = Deno.readTextFileSync(f);
    assert.equal(after, editDebugH(DEBUG, { origin, perfExp: true }));
    assert.ok(after.includes("#define PERF_EXP 1"));
    assert.equal(after.includes(ORIGIN_DEFINE), origin);
  }
});

Deno.test("origin whose tree lost the define fails with a message naming it", async () => {
  using d = tempDir();
  tree(d.path, DEBUG.replace(ORIGIN_DEFINE + "\n", ""));
  const r = await sh(d.path, debugHCommands({ origin: true }).join(" && "));
  assert.equal(r.code, 3);
  assert.match(r.stderr, /origin include\/popcorn\/debug.h lacks #define CONFIG_POPCORN_ORIGIN_NODE/);
});

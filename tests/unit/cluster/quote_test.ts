import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { argvToShell, buildCommandLine, shQuote } from "../../../lib/remote/mod.ts";

const NASTY = [
  "plain",
  "",
  "two words",
  "it's",
  "'",
  "''",
  "$(touch /tmp/hl-pwned)",
  "`touch /tmp/hl-pwned`",
  "; touch /tmp/hl-pwned",
  "a && b || c | d > e < f",
  "$HOME ${PATH} $1 $@ $*",
  'back\\slash "double" \\"',
  "new\nline\ttab",
  "*?[a-z]~",
  "-n",
  "ünïcödé ✓",
  "!!",
];

async function shEcho(line: string): Promise<string> {
  const o = await new Deno.Command("/bin/sh", { args: ["-c", line], stdout: "piped", stderr: "piped" }).output();
  assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
  return new TextDecoder().decode(o.stdout);
}

Deno.test("quote: every argv element reaches the program literally (real /bin/sh, no injection)", async () => {
  try {
    Deno.removeSync("/tmp/hl-pwned");
  } catch { /* absent */ }
  const line = argvToShell(["printf", "%s\\0", ...NASTY]);
  const out = await shEcho(line);
  assert.deepEqual(out.split("\0").slice(0, -1), NASTY);
  // And through the full wrapper (/bin/sh -c '<script>'), with env and cwd.
  const full = buildCommandLine(["printf", "%s\\0", ...NASTY], { env: { HL_X: "$(touch /tmp/hl-pwned)'" }, cwd: "/" });
  assert.deepEqual((await shEcho(full)).split("\0").slice(0, -1), NASTY);
  const env = await shEcho(
    buildCommandLine({ cmd: 'printf %s "$HL_X"; pwd' }, { env: { HL_X: "a'b $(x) `y`" }, cwd: "/tmp" }),
  );
  assert.equal(env, "a'b $(x) `y`/tmp\n");
  assert.throws(() => Deno.statSync("/tmp/hl-pwned"), "injection created a file");
});

Deno.test("quote: plain words stay readable; sudo and bad inputs", () => {
  assert.equal(shQuote("abc/def-1.2"), "abc/def-1.2");
  assert.equal(shQuote("it's"), `'it'\\''s'`);
  assert.equal(buildCommandLine(["id", "-u"], { sudo: true }), "sudo -n -- /bin/sh -c 'id -u'");
  assert.throws(() => argvToShell([]), InputError);
  assert.throws(() => shQuote("a\0b"), InputError);
  assert.throws(() => buildCommandLine({ cmd: "  " }), InputError);
  assert.throws(() => buildCommandLine(["x"], { env: { "BAD-NAME": "1" } }), /env\.BAD-NAME/);
  assert.throws(() => buildCommandLine(["x"], { env: { "A;rm -rf /": "1" } }), InputError);
  assert.throws(() => buildCommandLine(["x"], { cwd: "" }), /cwd/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => buildCommandLine("ls -l" as any), /command/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => argvToShell(["ok", 3 as any]), /argv element/);
});

/** The script wrapped around every remote command: marker, in-place evaluation by a sh login shell, exit status. */
import assert from "node:assert/strict";
import { wrapWithMarker } from "../../../lib/remote/exec.ts";
import { buildCommandLine, buildScript } from "../../../lib/remote/quote.ts";
import { needCommand, skipIf } from "../../_helpers.ts";

/** Runs the wrapper as sshd would, `<shell> -c <wrapper>`; returns the shell's pid, stdout and exit code. */
async function runAs(shell: string, wrapper: string) {
  const child = new Deno.Command(shell, { args: ["-c", wrapper], stdout: "piped", stderr: "piped" }).spawn();
  const o = await child.output();
  return { pid: child.pid, out: new TextDecoder().decode(o.stdout), code: o.code };
}

const command = { cmd: 'echo "$$ $HYPERLAB_CMD $HL_X"; exit 7' };
const opts = { env: { HL_X: "it's" } };
const id = "6f1c0e5e-1d1e-4c59-9a8e-0b9f3e7c2a10";

Deno.test("command wrapper: a sh login shell runs the script itself (no second shell), same output and status", async () => {
  const w = wrapWithMarker(buildCommandLine(command, opts), id, buildScript(command, opts));
  const r = await runAs("/bin/sh", w);
  assert.equal(r.code, 7);
  assert.equal(r.out, `${r.pid} ${id} it's\n`, "the script ran in the login shell's own process");
});

Deno.test({
  name: "command wrapper: any other login shell hands the script to /bin/sh, same output and status",
  ignore: skipIf(needCommand("bash", "bash")),
  async fn() {
    const w = wrapWithMarker(buildCommandLine(command, opts), id, buildScript(command, opts));
    const r = await runAs("bash", w);
    assert.equal(r.code, 7);
    const [pid, ...rest] = r.out.trim().split(" ");
    assert.notEqual(Number(pid), r.pid, "a /bin/sh child ran the script");
    assert.deepEqual(rest, [id, "it's"]);
  },
});

Deno.test("command wrapper: without a script (sudo lines) the command line runs as given", async () => {
  const line = buildCommandLine(command, opts);
  const r = await runAs("/bin/sh", wrapWithMarker(line, id));
  assert.equal(r.code, 7);
  const [pid, ...rest] = r.out.trim().split(" ");
  assert.notEqual(Number(pid), r.pid);
  assert.deepEqual(rest, [id, "it's"]);
  assert.ok(line.startsWith("/bin/sh -c "));
});

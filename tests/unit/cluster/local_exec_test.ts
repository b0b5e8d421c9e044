import assert from "node:assert/strict";
import { CancelledError, InputError } from "../../../lib/core/errors.ts";
import { parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { CommandError, connectCluster, RemoteTimeoutError, waitFor } from "../../../lib/remote/mod.ts";
import { join } from "node:path";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

function processesMatching(marker: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ").includes(marker)) {
        out.push(Number(e.name));
      }
    } catch { /* exited */ }
  }
  return out;
}

Deno.test({
  name: "local node: same run semantics in-process (stdin, env, exit codes, group kill on timeout and abort)",
  ignore: skipIf(needCommand("setsid", "util-linux")),
  async fn() {
    const inv = parseInventoryYaml(
      "nodes:\n  - { name: me, host: localhost, user: root, local: true }\n",
      "local.yaml",
    );
    using c = connectCluster(inv);
    const me = c.node("me");
    const r = await me.run({ cmd: 'read x; echo "$x $HL_V"; echo warn >&2' }, {
      stdin: "hello\n",
      env: { HL_V: "v'1" },
      stream: false,
    });
    assert.deepEqual([r.exitCode, r.stdout, r.stderr], [0, "hello v'1\n", "warn\n"]);
    await assert.rejects(
      () => me.run({ cmd: "echo boom >&2; exit 5" }, { stream: false }),
      (e: unknown) => e instanceof CommandError && e.node === "me" && e.exitCode === 5 && /boom/.test(e.message),
    );
    await assert.rejects(
      () => me.run({ cmd: "sleep 311.25 & sleep 312.25; wait" }, { timeout: 300, stream: false }),
      RemoteTimeoutError,
    );
    // a command with no child process (a shell loop) is found by the wrapper shell's command line
    await assert.rejects(
      () => me.run({ cmd: ": 314.25; while :; do :; done" }, { timeout: 300, stream: false }),
      RemoteTimeoutError,
    );
    // deno-lint-ignore no-explicit-any
    const bad = (o: any) => () => me.run(["true"], o);
    assert.throws(bad({ timeout: -1 }), (e: unknown) => e instanceof InputError && e.field === "timeout");
    assert.throws(bad({ timeout: "5s" }), (e: unknown) => e instanceof InputError && e.field === "timeout");
    assert.throws(bad({ maxOutputBytes: 0 }), (e: unknown) => e instanceof InputError && e.field === "maxOutputBytes");
    assert.throws(bad({ stdin: 42 }), (e: unknown) => e instanceof InputError && e.field === "stdin");
    // deno-lint-ignore no-explicit-any
    const badConn = (o: any) => () => connectCluster(inv, o);
    assert.throws(
      badConn({ connectTimeoutMs: 0 }),
      (e: unknown) => e instanceof InputError && e.field === "connectTimeoutMs",
    );
    assert.throws(badConn({ retries: 1.5 }), (e: unknown) => e instanceof InputError && e.field === "retries");
    assert.throws(badConn({ hostKeys: "yes" }), (e: unknown) => e instanceof InputError && e.field === "hostKeys");
    {
      using dir = tempDir();
      const src = join(dir.path, "a.bin");
      Deno.writeFileSync(src, new Uint8Array([1, 2, 3, 4]));
      const up = await me.upload(src, join(dir.path, "b.bin"), { mode: 0o600 });
      assert.equal(up.bytes, 4);
      const down = await me.download(join(dir.path, "b.bin"), join(dir.path, "c.bin"));
      assert.equal(down.sha256, up.sha256);
      assert.equal(Deno.statSync(join(dir.path, "b.bin")).mode! & 0o777, 0o600);
      await assert.rejects(() => me.upload(join(dir.path, "missing"), join(dir.path, "d")), /node me: copy/);
    }
    const ac = new AbortController();
    setTimeout(() => ac.abort(new CancelledError("Ctrl-C")), 300);
    await assert.rejects(() => me.run({ cmd: "sleep 313.25" }, { signal: ac.signal, stream: false }), CancelledError);
    await waitFor(() => processesMatching(": 314.25").length === 0, { timeout: 3000, what: "the shell loop killed" });
    await waitFor(() => ["311.25", "312.25", "313.25"].every((m) => processesMatching(`sleep ${m}`).length === 0), {
      timeout: 3000,
      what: "local process groups killed",
    });
  },
});

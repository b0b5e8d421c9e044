/**
 * A controller killed with SIGKILL runs no cleanup at all: its QEMU must still die (setpriv --pdeathsig) and the
 * stale runtime directory is swept by the next start.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { sweepStaleRunDirs } from "../../../lib/lab/guest_stale.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { needGuestTools, pathExists, processAlive } from "./_guest_env.ts";

Deno.test({
  name: "orphans: SIGKILL of the controller kills its QEMU; the next start sweeps the stale runtime dir",
  ignore: skipIf(needGuestTools() ?? needCommand("setpriv", "util-linux")),
  async fn() {
    const script = fileURLToPath(new URL("./_orphan_child.ts", import.meta.url));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let info: { pid: number; dir: string } | undefined;
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const r = await reader.read();
        if (r.done) break;
        text += r.value;
      }
      reader.releaseLock();
      info = JSON.parse(text.split("\n")[0] || "null");
      assert.ok(info && processAlive(info.pid), `child reported ${text}`);
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    for (let i = 0; i < 40 && processAlive(info.pid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(processAlive(info.pid), false, "QEMU died with its controller");
    assert.ok(pathExists(info.dir), "no cleanup ran in the killed controller");
    const removed = await sweepStaleRunDirs();
    assert.ok(removed.includes(info.dir), `swept: ${removed}`);
    assert.equal(pathExists(info.dir), false);
  },
});

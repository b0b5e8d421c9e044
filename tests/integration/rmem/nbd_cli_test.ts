/** `deno task nbd-server` as a playbook step would run it: a process serving a disk from memory-server processes. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "../../../lib/rmem/mod.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { qemuIo } from "./_qemu.ts";

const MAIN = fileURLToPath(new URL("../../../lib/nbd/server_main.ts", import.meta.url));

Deno.test({
  name: "nbd-server CLI: serves an export over two memory-server processes; bad flags name the flag",
  ignore: skipIf(needCommand("qemu-io", "qemu-utils")),
  async fn() {
    await using a = await startServerProcess({ pool: "16M" });
    await using b = await startServerProcess({ pool: "16M" });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, "--rmem", `${a.endpoint},${b.endpoint}`, "--size", "8M", "--port", "0"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errText = new Response(child.stderr).text();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const first = await reader.read();
      reader.releaseLock();
      const line = JSON.parse(first.value!);
      assert.equal(line.event, "listening");
      assert.match(line.url, /^nbd:\/\/127\.0\.0\.1:\d+\/swap$/);
      const r = await qemuIo(line.url, "write -P 0x61 0 128k", "read -P 0x61 0 128k");
      assert.equal(r.code, 0, r.out);
      await a.kill("SIGKILL");
      const lost = await qemuIo(line.url, "read -P 0x61 0 128k");
      assert.match(lost.out, /Input\/output error/);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
    assert.match(await errText, /"event":"lost".*"blocks":16/);

    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, "--rmem", b.endpoint, "--size", "12Q"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bad.code, 2);
    assert.match(new TextDecoder().decode(bad.stderr), /--size: expected a size like/);
  },
});

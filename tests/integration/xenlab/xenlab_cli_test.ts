/**
 * `deno task xenlab up | status | ssh | down` for real: a detached Xen lab host (1 CPU, no NUMA, to boot quickly)
 * outlives the `up` process, answers `status` and `ssh`, is described by its inventory, and `down` stops QEMU and
 * removes its directory.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { readXenLabState } from "../../../lib/lab/xen_host_mod.ts";
import { ROOT } from "../../_cli.ts";
import { needCommand, needPath, skipIf, tempDir } from "../../_helpers.ts";
import { processAlive } from "../../../lib/core/process.ts";

const skip = needCommand("qemu-system-x86_64", "qemu-system-x86") ?? needCommand("apt-get", "apt") ??
  needPath("/usr/sbin/dropbear", "dropbear-bin") ?? needPath("/bin/busybox", "busybox-static");

async function xenlab(...args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "lib/lab/xen_host_main.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test({ name: "xenlab CLI: up (detached), status, ssh, inventory, down", ignore: skipIf(skip) }, async () => {
  using tmp = tempDir("hyperlab-xenlab-cli-");
  const dir = join(tmp.path, "xen");
  try {
    const up = await xenlab("up", "--dir", dir, "--name", "xencli", "--cpus", "1", "--numa", "1");
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /xenlab up: xencli \(Xen 4\.17\.[^)]*\) in [\d.]+ s; QEMU start → dom0 ready [\d.]+ s/);
    console.log(up.out.trim().split("\n")[0]);
    const state = await readXenLabState(dir);
    assert.ok(state && processAlive(state.pid), "QEMU outlives the up command");

    const again = await xenlab("up", "--dir", dir);
    assert.equal(again.code, 1);
    assert.match(again.out, /already runs in/);

    const status = await xenlab("status", "--dir", dir);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /xencli: up {2}ssh 127\.0\.0\.1:\d+ {2}pid \d+ {2}1 domain\(s\)/);

    const ssh = await xenlab("ssh", "--dir", dir, "--", "xl", "info", "|", "grep", "-E", "'^(nr_cpus|nr_nodes)'");
    assert.equal(ssh.code, 0, ssh.out);
    assert.match(ssh.out, /nr_cpus\s*:\s*1/);
    assert.match(ssh.out, /nr_nodes\s*:\s*1/);

    const inv = await loadInventory(state.inventory);
    assert.equal(inv.nodes[0].name, "xencli");
    assert.equal(inv.nodes[0].port, state.sshPort);

    const down = await xenlab("down", "--dir", dir);
    assert.equal(down.code, 0, down.out);
    assert.match(down.out, new RegExp(`stopped xencli \\(pid ${state.pid}\\)`));
    assert.ok(!processAlive(state.pid), "QEMU stopped");
    assert.ok(!existsSync(dir), "directory removed");
  } finally {
    if (existsSync(dir)) await xenlab("down", "--dir", dir);
  }
});

/**
 * `deno task lab up --nodes 1 --xen` for real: the Xen lab host joins the local lab's inventory as `xen0`, is driven
 * like any node (`xl info` through cluster/run), stays in the inventory across a later `lab up`, and `lab down`
 * stops its QEMU.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { cli, ROOT } from "../../_cli.ts";
import { needCommand, needPath, needRoot, skipIf } from "../../_helpers.ts";
import { processAlive } from "../../../lib/core/process.ts";

const skip = needRoot() ?? needCommand("qemu-system-x86_64", "qemu-system-x86") ?? needCommand("apt-get", "apt") ??
  needPath("/usr/sbin/dropbear", "dropbear-bin") ?? needPath("/bin/busybox", "busybox-static") ??
  needCommand("sshd", "openssh-server");

async function lab(dir: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "lib/lab/lab_main.ts", ...args, "--dir", dir, "--prefix", "lx", "--subnet", "61"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test(
  { name: "lab up --xen: dom0 joins the lab inventory and lab down stops it", ignore: skipIf(skip) },
  async () => {
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-labxen-" });
    try {
      const up = await lab(dir, "up", "--nodes", "1", "--xen");
      assert.equal(up.code, 0, up.out);
      assert.match(up.out, /xen0 +127\.0\.0\.1:\d+ +\(Xen 4\.17/);
      const inv = await loadInventory(join(dir, "inventory.yaml"));
      const xen0 = inv.nodes.find((n) => n.name === "xen0")!;
      assert.deepEqual(xen0.roles, ["xen", "dom0"]);
      const pid = JSON.parse(Deno.readTextFileSync(join(dir, "xen", "state.json"))).pid as number;
      assert.ok(processAlive(pid));

      const run = await cli("play", [
        "cluster/run",
        "--inventory",
        join(dir, "inventory.yaml"),
        "--limit",
        "xen0",
        "--command",
        "xl info",
        "--shell",
        "--verbose",
        "--results",
        join(dir, "r.db"),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /\[xen0\] xen_version\s+: 4\.17/);

      const again = await lab(dir, "up", "--nodes", "1");
      assert.equal(again.code, 0, again.out);
      assert.ok((await loadInventory(join(dir, "inventory.yaml"))).nodes.some((n) => n.name === "xen0"), "kept");
      assert.match((await lab(dir, "status")).out, /xen0 .* up {2}Xen 4\.17/);

      const down = await lab(dir, "down");
      assert.match(down.out, /stopped the Xen host xen0/);
      for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!processAlive(pid), "QEMU of the Xen host is gone");
      assert.ok(!existsSync(join(dir, "xen")));
    } finally {
      await lab(dir, "down");
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

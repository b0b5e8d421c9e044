/**
 * nephele/xen-clone against a real stock Xen (the Xen lab host, `deno task xenlab up`): with --until-clone every step
 * up to the clone runs for real — xl config, parent creation (a Linux PV stand-in guest), its console log,
 * teardown — and the missing clone hypercall is reported, not hidden. Uses the Xen lab host that is up
 * (HYPERLAB_XENLAB_DIR, default .hyperlab/lab/xen), else boots a private one for the test and stops it after.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { readXenLabState, XEN_LAB_DIR, xenLabDown, xenLabUp } from "../../../lib/lab/xen_host_lab.ts";
import { buildXenGuestImage, XEN_GUEST_READY_MARKER } from "../../../lib/lab/xen_host_guest.ts";
import { cacheRoot } from "../../../lib/lab/guests_mod.ts";
import { connectCluster, shQuote } from "../../../lib/remote/mod.ts";
import { cli } from "../../_cli.ts";
import { needCommand, needPath, skipIf, tempDir } from "../../_helpers.ts";
import { processAlive } from "../../../lib/core/process.ts";

const SHARED_DIR = Deno.env.get("HYPERLAB_XENLAB_DIR") ?? XEN_LAB_DIR;
const skip = existsSync(join(SHARED_DIR, "inventory.yaml"))
  ? null
  : needCommand("qemu-system-x86_64", "qemu-system-x86") ??
    needCommand("apt-get", "apt") ?? needPath("/usr/sbin/dropbear", "dropbear-bin") ??
    needPath("/bin/busybox", "busybox-static");

/** The directory of a running Xen lab host: the shared one when it runs, else a private one booted now. */
async function xenLab(): Promise<{ dir: string; own: boolean }> {
  const shared = await readXenLabState(SHARED_DIR);
  if (shared && processAlive(shared.pid)) return { dir: SHARED_DIR, own: false };
  const dir = Deno.makeTempDirSync({ prefix: "hyperlab-nephele-xen-" });
  await xenLabUp({ cpus: 1, numaNodes: 1 }, dir);
  return { dir, own: true };
}

Deno.test({
  name:
    "nephele/xen-clone --until-clone on stock Xen: parent created for real, console log kept, clone reported missing",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using d = tempDir();
    const lab = await xenLab();
    const INVENTORY = join(lab.dir, "inventory.yaml");
    // The guest kernel and initramfs go into dom0's tmpfs (xl create from the 9p share is very slow).
    const img = await buildXenGuestImage();
    const inCache = (p: string) =>
      "/mnt/cache/" + Deno.realPathSync(p).slice(Deno.realPathSync(cacheRoot()).length + 1);
    const inv = await loadInventory(INVENTORY);
    const cluster = connectCluster(inv);
    try {
      await cluster.origin.run({
        cmd: `cp ${shQuote(inCache(img.kernelFile))} /tmp/nephele-test.vmlinux && ` +
          `cp ${shQuote(inCache(img.initramfs.path))} /tmp/nephele-test.cpio.gz`,
      }, { timeout: 180_000, stream: false });
      const r = await cli("play", [
        "nephele/xen-clone",
        ...["--inventory", INVENTORY, "--until-clone", "--name", "nephele-test", "--no-network", "--cpus", "all"],
        ...["--kernel", "/tmp/nephele-test.vmlinux", "--ramdisk", "/tmp/nephele-test.cpio.gz"],
        ...["--cmdline", "console=hvc0 quiet", "--memory-mb", "128", "--console-log-dir", "/var/log/xen/console"],
        ...["--ready-marker", XEN_GUEST_READY_MARKER, "--ready-timeout-ms", "120000"],
        ...["--results", join(d.path, "r.db"), "--json"],
      ]);
      assert.notEqual(r.code, 0, "the run fails at the clone step");
      assert.match(r.stderr, /cannot clone VMs: missing the clone hypercall: `xl help` lists no `clone` command/);
      const j = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      const steps = Object.fromEntries(j.steps.map((s: { name: string; status: string }) => [s.name, s.status]));
      assert.equal(steps["parent: xl create"], "ok");
      assert.equal(steps["parent: wait until it runs"], "ok");
      assert.equal(steps["clone: needs the clone hypercall"], "failed");
      assert.equal(steps["teardown: destroy children and parent"], "ok");
      const consoleLog = j.artifacts.find((a: { name: string }) => a.name === "guest-nephele-test.log");
      assert.ok(consoleLog?.size > 0, "the parent's console log is kept as an artifact");
      const list = await cluster.origin.run(["xl", "list"], { stream: false });
      assert.doesNotMatch(list.stdout, /nephele-test/, "the parent was destroyed");
    } finally {
      await cluster.origin.run({ cmd: "rm -f /tmp/nephele-test.vmlinux /tmp/nephele-test.cpio.gz" }, {
        check: false,
        stream: false,
      });
      cluster.close();
      if (lab.own) await xenLabDown(lab.dir);
    }
  },
});

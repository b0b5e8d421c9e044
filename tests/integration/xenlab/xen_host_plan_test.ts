/**
 * The Xen lab host without booting it: option validation naming the field, the exact QEMU command line (Xen as
 * the multiboot kernel, dom0 kernel + initramfs as modules, smap=0, NUMA, loopback SSH, 9p shares), the guest
 * console parser, the inventory entry, and the `xenlab` CLI's errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import { parseInventoryYaml } from "../../../lib/inventory/load.ts";
import {
  attachXenLab,
  FileConsole,
  parseXenGuestView,
  parseXenHostOptions,
  XenHost,
  xenHostArgv,
  xenLabInventory,
} from "../../../lib/lab/xen_host_mod.ts";
import { ROOT } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

function rejects(input: Record<string, unknown>, field: RegExp): void {
  assert.throws(() => parseXenHostOptions(input), (e) => e instanceof InputError && field.test(e.message));
}

Deno.test("xen host options: defaults, and bad input names the field", () => {
  const o = parseXenHostOptions();
  assert.equal(o.name, "xen0");
  assert.equal(o.cpus, 2);
  assert.equal(o.numaNodes, 2);
  assert.equal(o.dom0MemoryMiB, 1024);
  rejects({ dom0MemoryMiB: 2000, memoryMiB: 2048 }, /dom0MemoryMiB: expected at most memoryMiB - 256 \(1792\)/);
  rejects({ numaNodes: 3 }, /numaNodes: expected at most cpus \(2\)/);
  rejects({ name: "Xen_0" }, /name: expected lowercase letters, digits and -/);
  rejects({ memoryMiB: 2049 }, /memoryMiB: expected divisible by numaNodes/);
  rejects({ xenArgs: ["a b"] }, /xenArgs\[0\]: expected one argument without spaces/);
  rejects({ xenstored: "cxenstored" }, /xenstored/);
  rejects({ bogus: 1 }, /bogus|Unrecognized/);
});

Deno.test("xen host argv: Xen multiboot kernel, dom0 as modules, smap=0, NUMA, loopback SSH, read-only shares", () => {
  const o = parseXenHostOptions({ sshPort: 2222 });
  const argv = xenHostArgv(o, {
    hypervisor: "/c/xen",
    dom0Kernel: "/c/vmlinux",
    initrd: "/c/dom0.cpio.gz",
    consoleFile: "/r/console.log",
    sshPort: 2222,
    shares: [{ tag: "hlproject", path: "/p", readOnly: true }],
  });
  const val = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.equal(argv[0], "qemu-system-x86_64");
  assert.equal(val("-kernel"), "/c/xen");
  assert.match(val("-append"), /^dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1 smap=0 /);
  assert.equal(val("-initrd"), "/c/vmlinux console=hvc0 quiet hyperlab.name=xen0,/c/dom0.cpio.gz");
  assert.equal(val("-accel"), "tcg,thread=single");
  assert.equal(val("-cpu"), "max,-rdtscp");
  assert.ok(argv.includes("node,nodeid=0,cpus=0,memdev=numa-mem0"));
  assert.ok(argv.includes("node,nodeid=1,cpus=1,memdev=numa-mem1"));
  assert.equal(val("-netdev"), "user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22");
  assert.equal(val("-virtfs"), "local,path=/p,mount_tag=hlproject,security_model=none,readonly=on");
  assert.ok(!argv.includes("-daemonize"));
  assert.throws(
    () =>
      xenHostArgv(o, {
        ...{ hypervisor: "/a,b", dom0Kernel: "/k", initrd: "/i" },
        consoleFile: "/c",
        sshPort: 1,
        shares: [],
      }),
    (e) => e instanceof InputError && /hypervisor: expected a path without commas/.test(e.message),
  );
  const one = xenHostArgv(parseXenHostOptions({ numaNodes: 1, xenstored: "oxenstored" }), {
    hypervisor: "/x",
    dom0Kernel: "/k",
    initrd: "/i",
    consoleFile: "/c",
    sshPort: 1,
    shares: [],
    pidFile: "/r/pid",
  });
  assert.ok(!one.includes("-numa"));
  assert.match(one[one.indexOf("-initrd") + 1], /hyperlab\.xenstored=oxenstored/);
  assert.deepEqual(one.slice(-3), ["-daemonize", "-pidfile", "/r/pid"]);
});

Deno.test("xen guest console: what the guest reports is parsed", () => {
  const text = [
    "[    0.000000] Linux version 6.1.0",
    "hyperlab-xguest: userspace uptime=3.2",
    "hyperlab-xguest: numa nodes=2",
    "hyperlab-xguest: node0 cpus=0 memkb=120000",
    "hyperlab-xguest: node1 cpus=1 memkb=121000",
    "hyperlab-xguest: cpus online=0-1 memkb=241000",
    "hyperlab-xguest: hypervisor=xen guest_type=PVH",
    "hyperlab-xguest: ready",
  ].join("\n");
  assert.deepEqual(parseXenGuestView(text), {
    numaNodes: 2,
    nodes: [{ node: 0, cpus: "0", memKiB: 120000 }, { node: 1, cpus: "1", memKiB: 121000 }],
    cpusOnline: "0-1",
    memKiB: 241000,
    guestType: "PVH",
  });
  assert.equal(parseXenGuestView("nothing yet").numaNodes, 0);
});

Deno.test("xen lab inventory: dom0 as a node with its own key and known_hosts", () => {
  using d = tempDir();
  const host = new XenHost({
    options: parseXenHostOptions(),
    argv: [],
    image: null,
    console: new FileConsole(join(d.path, "console.log")),
    endpoint: {
      name: "xen0",
      host: "127.0.0.1",
      port: 40022,
      user: "root",
      key: "/keys/id",
      knownHosts: "/run/known_hosts",
      hostKey: "ssh-ed25519 AAAA",
    },
    dir: d.path,
    child: null,
    pid: 0,
    detached: true,
    run: undefined,
  });
  const inv = parseInventoryYaml(xenLabInventory(host, { xen: "4.17.7" }), "xen-lab", d.path);
  const node = inv.nodes[0];
  assert.equal(node.name, "xen0");
  assert.equal(node.port, 40022);
  assert.equal(node.user, "root");
  assert.equal(node.key, "/keys/id");
  assert.equal(node.knownHosts, "/run/known_hosts");
  assert.deepEqual(node.roles, ["xen", "dom0"]);
  assert.equal(node.vars.xen, "4.17.7");
});

Deno.test("xenlab CLI: unknown command and no host are clear errors", async () => {
  using d = tempDir();
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "lib/lab/xen_host_main.ts", ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
  };
  const bad = await run("reboot");
  assert.equal(bad.code, 1);
  assert.match(bad.out, /command: expected up, down, status or ssh/);
  const status = await run("status", "--dir", d.path);
  assert.equal(status.code, 1);
  assert.match(status.out, /no Xen lab host/);
  const down = await run("down", "--dir", join(d.path, "none"));
  assert.equal(down.code, 0);
  assert.match(down.out, /nothing running/);
  const cpus = await run("up", "--cpus", "two", "--dir", d.path);
  assert.equal(cpus.code, 1);
  assert.match(cpus.out, /--cpus: expected a whole number/);
  await assert.rejects(attachXenLab(d.path), /no Xen lab host runs in/);
});

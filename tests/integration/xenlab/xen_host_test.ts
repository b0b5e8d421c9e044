/**
 * The Xen lab host for real: Debian's Xen 4.17 + a Debian dom0 booted once in QEMU (TCG) and shared by every step
 * of this file. From the host: the inventory entry over SSH (the cluster layer's ssh2 client against dom0's
 * dropbear) and the Nephele playbook's preflight verdict. Inside dom0 (Deno from the 9p share): the xen and xenstore
 * helpers' own tests (their real-Xen halves, HYPERLAB_XEN_XENSTORED=default), the xenstore
 * conformance cases through our libxenstore shim against Xen's own xenstored, compared with the embedded
 * xenstored's transcript; xenctrl physinfo and vCPU pinning; the raw xen_version hypercall and Nephele's clone_op
 * 43 (ENOSYS on stock Xen). Then `xl create` of a PV guest from lib/xen's XlConfig (stock libxl refuses a PV vnuma
 * layout: that refusal is checked too), pinned vCPUs seen from Xen, from xenstore and inside the guest, the Virtflex
 * playbook on it (stock guests never complete: it must time out naming the last values), and `xl destroy`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { startXenHost, type XenHost } from "../../../lib/lab/xen_host.ts";
import { createXenGuest, parseXenGuestView, XEN_GUEST_READY_MARKER } from "../../../lib/lab/xen_host_guest.ts";
import { writeXenLabInventory } from "../../../lib/lab/xen_host_lab.ts";
import { connectCluster } from "../../../lib/remote/mod.ts";
import { type ConformanceResult, EmbeddedXenstored } from "../../../lib/xenstore/mod.ts";
import { compareConformance, LibXenstoreClient, runConformance } from "../../../lib/xenstore/mod.ts";
import { cli } from "../../_cli.ts";
import { needCommand, needPath, skipIf, tempDir } from "../../_helpers.ts";

const skip = needCommand("qemu-system-x86_64", "qemu-system-x86") ?? needCommand("apt-get", "apt") ??
  needPath("/usr/sbin/dropbear", "dropbear-bin") ?? needPath("/usr/include/xenstore.h", "libxen-dev (xenstore.h)") ??
  needPath("/bin/busybox", "busybox-static");

interface Probe {
  conformance: ConformanceResult[];
  version: { major: number; minor: number; text: string };
  physinfo: { nrCpus: number; nrNodes: number; totalMemoryKiB: number; freeMemoryKiB: number };
  domains: { domid: number }[];
  pinning: { before: { hard: number[] }; set: number[]; after: { hard: number[] }; restored: { hard: number[] } };
  guestAffinity?: { hard: number[] }[];
  xenVersionRaw: number;
  cloneOp: string;
}

function probeOf(stdout: string, stderr: string): Probe {
  const line = stdout.split("\n").find((l) => l.startsWith("HYPERLAB_PROBE "));
  assert.ok(line, `dom0 probe printed no result; stderr:\n${stderr.slice(-2000)}`);
  return JSON.parse(line.slice("HYPERLAB_PROBE ".length));
}

const secs = (ms?: number) => ms === undefined ? "?" : `${(ms / 1000).toFixed(1)} s`;

Deno.test({
  name: "Xen lab host: real Xen 4.17 in QEMU — shims, xl guest, Nephele and Virtflex verdicts",
  ignore: skipIf(skip),
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  using tmp = tempDir("hyperlab-xenlab-");
  const t0 = performance.now();
  const host: XenHost = await startXenHost({ name: "xen0" });
  try {
    console.log(
      `xen0 boot: QEMU start → dom0 userspace ${secs(host.bootTimes.userspaceMs)}, → ready ${
        secs(host.bootTimes.readyMs)
      }, → SSH ${secs(host.bootTimes.sshReadyMs)}`,
    );
    assert.ok(host.bootTimes.readyMs! <= host.bootTimes.sshReadyMs!);
    const inventory = await writeXenLabInventory(host);

    // The embedded xenstored's transcript, on this machine, while dom0 works.
    const embeddedDone = (async () => {
      await using d = await EmbeddedXenstored.start({ socketPath: join(tmp.path, "xs.sock") });
      return await runConformance(() => LibXenstoreClient.open(d.socketPath));
    })();
    // The Nephele playbook against dom0 over SSH (ssh2), in parallel with the dom0 work below.
    const nepheleDone = cli("play", [
      "nephele/xen-clone",
      "--inventory",
      inventory,
      "--results",
      join(tmp.path, "nephele.db"),
      "--xencloned-log",
      join(tmp.path, "xencloned.log"),
      "--plain",
    ]);

    await t.step("dom0 is an inventory node reachable through the cluster layer", async () => {
      const inv = await loadInventory(inventory);
      const cluster = connectCluster(inv);
      try {
        const node = cluster.origin;
        assert.equal(node.name, "xen0");
        const r = await node.run(["sh", "-c", "xl info; cat /sys/hypervisor/type"], { timeout: 60_000, stream: false });
        assert.match(r.stdout, /xen_major\s*:\s*4\b/);
        assert.match(r.stdout, /xen_minor\s*:\s*17\b/);
        assert.match(r.stdout, /nr_nodes\s*:\s*2\b/);
        assert.match(r.stdout, /^xen$/m);
        // The cluster agent runs in dom0 (its Deno is the 9p-shared one; only the source is uploaded).
        const facts = await node.facts();
        assert.equal(facts.xen.present, true);
        assert.equal(facts.xen.role, "dom0");
        assert.match(facts.xen.version ?? "", /^4\.17/);
        assert.equal(facts.cpus.count, 2);
      } finally {
        cluster.close();
      }
    });

    let probe: Probe;
    await t.step("in dom0: our shims against the real hypervisor and Xen's xenstored", async () => {
      const r = await host.deno("tests/integration/xenlab/_dom0_probe.ts", ["probe"]);
      assert.equal(r.code, 0, `probe failed:\n${r.stderr.slice(-2000)}`);
      probe = probeOf(r.stdout, r.stderr);
      // xenstore: the same cases, Xen's xenstored vs the embedded one, line by line.
      const embedded = await embeddedDone;
      assert.deepEqual(compareConformance(embedded, probe.conformance), []);
      assert.ok(probe.conformance.flatMap((c) => c.transcript).includes("conflicting commit: EAGAIN"));
      // xenctrl.
      assert.deepEqual([probe.version.major, probe.version.minor], [4, 17]);
      assert.equal(probe.physinfo.nrCpus, 2);
      assert.equal(probe.physinfo.nrNodes, 2);
      assert.ok(probe.physinfo.totalMemoryKiB > 1_900_000 && probe.physinfo.freeMemoryKiB > 500_000);
      assert.ok(probe.domains.some((d) => d.domid === 0));
      assert.deepEqual(probe.pinning.set, [1]);
      assert.deepEqual(probe.pinning.after.hard, [1]);
      assert.deepEqual(probe.pinning.restored.hard, probe.pinning.before.hard);
      // Raw hypercalls: xen_version = (4 << 16) | 17; Nephele's clone_op does not exist in stock Xen.
      assert.equal(probe.xenVersionRaw, (4 << 16) | 17);
      assert.equal(probe.cloneOp, "ENOSYS");
      assert.equal(new ErrnoError("x", 38).errnoName, "ENOSYS");
    });

    await t.step("the xen and xenstore tests' real-Xen halves, run in dom0", async () => {
      const r = await host.denoTest([
        "tests/integration/xenstore/conformance_test.ts",
        "tests/integration/xen/xenctrl_and_xl_test.ts",
      ], { env: { HYPERLAB_XEN_XENSTORED: "default" } });
      const out = r.stdout + r.stderr;
      assert.equal(r.code, 0, out.slice(-3000));
      assert.match(out, /conformance: Xen's xenstored answers like the embedded one \.\.\. ok/);
      assert.match(out, /xenctrl: version and physinfo from the hypervisor \.\.\. ok/);
      assert.match(out, /xenctrl: without Xen, one MissingError naming \/dev\/xen\/privcmd \.\.\. ignored/);
      assert.doesNotMatch(out, /SKIP: needs Xen's xenstored/);
    });

    await t.step("Nephele's preflight says what the clone_op probe says: stock Xen cannot clone", async () => {
      const r = await nepheleDone;
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /xen0 cannot clone VMs: missing the clone hypercall/);
      assert.equal(probe.cloneOp, "ENOSYS");
    });

    const vnuma = [
      { pnode: 0, size: 128, vcpus: "0", vdistances: [10, 20] },
      { pnode: 1, size: 128, vcpus: "1", vdistances: [20, 10] },
    ];
    await t.step(
      "stock Xen 4.17's libxl cannot build a vnuma layout: PV refused, PVH fails in its ACPI builder",
      async () => {
        await assert.rejects(
          createXenGuest(host, { name: "pvnuma", type: "pv", memory: 256, vcpus: 2, vnuma }),
          /PV vNUMA is not yet supported/,
        );
        // libxl_x86_acpi.c init_acpi_config: xc_domain_getvnuma fails (ENOBUFS) for a PVH guest with vnuma.
        await assert.rejects(
          createXenGuest(host, { name: "pvhnuma", type: "pvh", memory: 256, vcpus: 2, vnuma }),
          /xc_domain_getvnuma failed|init_acpi_config failed|cannot \(re-\)build domain/,
        );
        assert.doesNotMatch(await host.execOk("xl list"), /pvnuma|pvhnuma/);
      },
    );

    const name = "hlguest";
    const guest = await createXenGuest(host, {
      name,
      type: "pv",
      memory: 256,
      vcpus: 2,
      cpus: "0-1",
      on_poweroff: "destroy",
    });
    try {
      await t.step("PV guest: pinned vCPUs seen from Xen, xenstore and inside the guest", async () => {
        const xl = host.xl();
        await xl.vcpuPin(name, 0, "0");
        await xl.vcpuPin(name, 1, "1");
        const rows = (await xl.vcpuList(name)).map((r) => [r.vcpu, r.hard]);
        assert.deepEqual(rows, [[0, "0"], [1, "1"]]);
        const text = await guest.waitForConsole(new RegExp(XEN_GUEST_READY_MARKER), 180_000);
        const view = parseXenGuestView(text);
        console.log(`guest ${name} (domid ${guest.domid}) sees: ${JSON.stringify(view)}`);
        assert.equal(view.guestType, "PV");
        assert.equal(view.cpusOnline, "0-1");
        assert.ok(view.memKiB > 150_000 && view.memKiB <= 262_144, `MemTotal ${view.memKiB} KiB`);
        // A stock Linux PV guest has no vNUMA (libxl refuses it above): one node holding both vCPUs.
        assert.equal(view.numaNodes, 1, text.split("\n").filter((l) => l.includes("hyperlab-xguest")).join("\n"));
        assert.deepEqual(view.nodes.map((n) => n.cpus), ["0-1"]);
        const xs = await host.execOk(
          `for k in name memory/target memory/static-max cpu/0/availability cpu/1/availability; do ` +
            `echo "$k=$(xenstore-read /local/domain/${guest.domid}/$k)"; done`,
        );
        assert.match(xs, new RegExp(`^name=${name}$`, "m"));
        assert.match(xs, /^memory\/target=262144$/m);
        assert.match(xs, /^cpu\/0\/availability=online$/m);
        assert.match(xs, /^cpu\/1\/availability=online$/m);
      });

      await t.step("our xenctrl shim reads the guest's pinning", async () => {
        const r = await host.deno("tests/integration/xenlab/_dom0_probe.ts", ["affinity", "--guest", `${guest.domid}`]);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        const p = probeOf(r.stdout, r.stderr);
        assert.deepEqual(p.guestAffinity?.map((a) => a.hard), [[0], [1]]);
      });

      await t.step("Virtflex on stock Xen: writes, pinning and vCPUs happen, completion never does", async () => {
        const seed = await host.deno("tests/integration/xenlab/_dom0_probe.ts", [
          "virtflex-seed",
          "--guest",
          `${guest.domid}`,
          "--name",
          name,
        ]);
        assert.equal(seed.code, 0, seed.stderr.slice(-2000));
        const r = await host.deno("lib/cli/play_main.ts", [
          "virtflex/topo-change",
          "--domain",
          name,
          "--action",
          "expand",
          "--node",
          "1",
          "--timeout-s",
          "6",
          "--pin",
          "--results",
          "/tmp/virtflex.db",
          "--plain",
        ]);
        const out = r.stdout + r.stderr;
        assert.notEqual(r.code, 0, out);
        assert.match(out, /pinned 4 vCPUs/);
        assert.match(out, /timed out after 6000 ms/);
        assert.match(out, new RegExp(`numa/topo_change="1"`));
        assert.match(out, new RegExp(`numa/node/1/target="131072"`));
        const after = await host.execOk(`xenstore-read /local/domain/${guest.domid}/numa/topo_change; xl vcpu-list`);
        assert.match(after, /^1$/m);
        assert.match(after, new RegExp(`^Domain-0\\s+0\\s+1\\s+\\S+\\s+\\S+\\s+\\S+\\s+1 /`, "m"));
      });
    } finally {
      await t.step("xl destroy removes the guest from xenstore", async () => {
        await guest.destroy();
        const r = await host.exec(`xenstore-exists /local/domain/${guest.domid}`);
        assert.notEqual(r.code, 0);
      });
    }
    console.log(`xenlab test total ${secs(performance.now() - t0)}`);
  } finally {
    await host.stop();
  }
});

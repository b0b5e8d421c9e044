/**
 * QMP against a real QEMU that is paused before boot (-S): every wrapped command, typed results, typed errors, and
 * QEMU accepting the full argv (NUMA, CPU and memory hotplug slots, intel-iommu with device IOTLB, an NBD drive
 * served by qemu-nbd, a file drive, trace events). No Linux boots here, so this costs almost no CPU.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import {
  buildGuestImage,
  buildQemuArgv,
  freePort,
  parseGuestOptions,
  QEMU_BINARY,
  Qmp,
  QmpClient,
  QmpClosedError,
  QmpError,
} from "../../../lib/lab/guests_mod.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools } from "./_guest_env.ts";

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (true) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

Deno.test({
  name: "qmp: paused QEMU with NUMA, hotplug slots, IOMMU, NBD + file drives and trace; commands and typed errors",
  ignore: skipIf(needGuestTools() ?? needCommand("qemu-nbd", "qemu-utils")),
  async fn() {
    using dir = tempDir();
    const img = await buildGuestImage();
    const disk = join(dir.path, "disk.raw");
    const nbdDisk = join(dir.path, "nbd.raw");
    for (const f of [disk, nbdDisk]) await Deno.writeFile(f, new Uint8Array(1 << 20));
    const nbdPort = freePort();
    const nbd = new Deno.Command("qemu-nbd", {
      args: ["-f", "raw", "-b", "127.0.0.1", "-p", String(nbdPort), "-x", "exp", "--persistent", nbdDisk],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let qemu: Deno.ChildProcess | undefined;
    try {
      await waitPort(nbdPort, 5000);
      const traceFile = join(dir.path, "trace.log");
      const events = join(dir.path, "events");
      await Deno.writeTextFile(events, "vtd_*\n");
      const o = parseGuestOptions({
        name: "paused",
        cpus: 1,
        maxCpus: 2,
        memoryMiB: 256,
        memoryHotplug: { slots: 2, maxMemoryMiB: 1024 },
        numa: [{ cpus: [0], memoryMiB: 128 }, { cpus: [1], memoryMiB: 128 }],
        iommu: {},
        drives: [{ file: disk }, { nbd: `nbd://127.0.0.1:${nbdPort}/exp`, readOnly: true }],
        trace: { events: ["vtd_*"], file: traceFile },
        accel: "tcg",
        extraArgs: ["-S"],
      });
      const sock = join(dir.path, "qmp.sock");
      const argv = buildQemuArgv(o, {
        kernel: img.kernel.vmlinux ?? img.kernel.vmlinuz,
        initrd: img.initramfs.path,
        qmpSocket: sock,
        traceEventsFile: events,
        sshPort: freePort(),
        forwardPorts: [],
        accel: "tcg",
      });
      const stderr: string[] = [];
      qemu = new Deno.Command(QEMU_BINARY, { args: argv, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
      (async () => {
        for await (const c of qemu.stderr.pipeThrough(new TextDecoderStream())) stderr.push(c);
      })();
      const client = await QmpClient.connect(sock, { timeoutMs: 10_000 }).catch((e) => {
        throw new Error(`QEMU did not come up: ${e}\n${stderr.join("")}`);
      });
      const qmp = new Qmp(client, "paused");

      const st = await qmp.status();
      assert.equal(st.running, false);
      assert.equal(st.status, "prelaunch");
      assert.equal((await qmp.version()).qemu.major >= 7, true);

      const slots = await qmp.queryHotpluggableCpus();
      assert.equal(slots.length, 2);
      assert.deepEqual(slots.map((s) => s.props["node-id"]).sort(), [0, 1], "each slot sits in its NUMA node");
      const cpu = await qmp.hotplugCpu();
      assert.equal(cpu.props["node-id"], 1);
      assert.equal((await qmp.queryCpusFast()).length, 2);
      await assert.rejects(qmp.hotplugCpu(), /no free vCPU slot/);

      await qmp.objectAdd({ "qom-type": "memory-backend-ram", id: "hp-mem1", size: 128 * 1024 * 1024 });
      await qmp.deviceAdd({ driver: "pc-dimm", id: "hp-dimm1", memdev: "hp-mem1", node: 1 });
      const mem = await qmp.queryMemoryDevices();
      assert.equal(mem.length, 1);
      assert.equal(mem[0].type, "dimm");
      assert.equal(mem[0].data.id, "hp-dimm1");
      assert.equal(mem[0].data.size, 128 * 1024 * 1024);
      assert.equal(mem[0].data.node, 1);

      const blocks = await client.execute<{ device: string; inserted?: { file: string; ro: boolean } }[]>(
        "query-block",
      );
      const nbdBlock = blocks.find((b) => b.inserted?.file.startsWith("nbd://"));
      assert.ok(nbdBlock, JSON.stringify(blocks));
      assert.equal(nbdBlock.inserted?.ro, true);

      // Typed errors.
      await assert.rejects(client.execute("no-such-command"), (e: unknown) => {
        assert.ok(e instanceof QmpError);
        assert.equal(e.errorClass, "CommandNotFound");
        assert.equal(e.command, "no-such-command");
        return true;
      });
      await assert.rejects(qmp.deviceAdd({ driver: "no-such-device", id: "x1" }), (e: unknown) => {
        assert.ok(e instanceof QmpError);
        assert.equal(e.errorClass, "GenericError");
        assert.match(e.desc, /no-such-device/);
        return true;
      });
      await assert.rejects(qmp.objectDel("hp-mem1"), QmpError, "a backend in use cannot be deleted");
      await assert.rejects(
        qmp.hotplugMemory({ sizeMiB: 0 }),
        (e: unknown) => e instanceof InputError && e.field === "sizeMiB",
      );
      const dimm2 = await qmp.hotplugMemory({ sizeMiB: 64, node: 0, id: "hp-dimm2" });
      assert.deepEqual(dimm2, { id: "hp-dimm2", memdev: "hp-dimm2-mem" });
      assert.equal((await qmp.queryMemoryDevices()).find((d) => d.data.id === "hp-dimm2")?.data.node, 0);
      await assert.rejects(qmp.hotplugMemory({ sizeMiB: 64, node: 7 }), QmpError, "no NUMA node 7");
      await assert.rejects(qmp.deviceDel("1-bad id"), (e: unknown) => e instanceof InputError && e.field === "id");
      await assert.rejects(
        qmp.deviceAdd({ driver: "", id: "x" }),
        (e: unknown) => e instanceof InputError && e.field === "device.driver",
      );

      const resumed = client.waitEvent("RESUME", { timeoutMs: 5000 });
      await qmp.cont();
      assert.equal((await resumed).event, "RESUME");
      assert.equal((await qmp.status()).running, true);
      await qmp.stop();
      const stopEvent = await client.waitEvent("STOP", { timeoutMs: 5000, past: true });
      assert.ok(stopEvent.timestamp.seconds > 0);
      assert.equal((await qmp.status()).status, "paused");
      await assert.rejects(client.waitEvent("NEVER_SENT", { timeoutMs: 100 }), /timed out after 100 ms/);

      await qmp.quit();
      await client.closed;
      await assert.rejects(qmp.status(), QmpClosedError);
      const st2 = await qemu.status;
      assert.equal(st2.code, 0, stderr.join(""));
      assert.ok((await Deno.stat(traceFile)).isFile, "trace file written");
    } finally {
      for (const p of [qemu, nbd]) {
        try {
          p?.kill("SIGKILL");
        } catch { /* exited */ }
        await p?.status;
      }
    }
  },
});

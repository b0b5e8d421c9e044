/**
 * Done-when of issue 6: inside a playbook run, boot a real Linux guest (QEMU, TCG here), run a command over SSH,
 * hotplug a vCPU through QMP and see the guest online it (then unplug it; and a DIMM, onlined too), shut down cleanly; the run records the console, the
 * accelerator and the boot metrics.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { decideAccel, fetchKernel, startGuest } from "../../../lib/lab/guests_mod.ts";
import { skipIf } from "../../_helpers.ts";
import { needGuestTools, pathExists, processAlive } from "./_guest_env.ts";

Deno.test({
  name: "guest: boot, SSH, vCPU hotplug onlined in the guest and unplugged, DIMM hotplug, clean shutdown",
  ignore: skipIf(needGuestTools()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const seen: Record<string, unknown> = {};
    const pb = definePlaybook({
      name: "test-guest-hotplug",
      description: "boot a guest and hotplug a vCPU",
      params: z.object({}),
      async run() {
        const g = await startGuest({
          name: "hp1",
          cpus: 1,
          maxCpus: 2,
          memoryMiB: 256,
          memoryHotplug: { slots: 2, maxMemoryMiB: 1024 },
        });
        seen.pid = g.pid;
        seen.dir = g.dir;
        seen.accel = g.accel.accel;
        seen.boot = { ...g.bootTimes };
        seen.endpoint = g.endpoint;

        const uname = await g.exec("uname -r; cat /sys/devices/system/cpu/online");
        assert.equal(uname.code, 0, uname.stderr);
        seen.uname = uname.stdout;

        const before = await g.qmp.queryHotpluggableCpus();
        assert.equal(before.length, 2);
        assert.equal(before.filter((s) => s["qom-path"]).length, 1);
        const plugged = await g.qmp.hotplugCpu();
        const cpus = await g.qmp.queryCpusFast();
        assert.equal(cpus.length, 2);
        assert.ok(cpus.some((c) => c["qom-path"].endsWith(plugged.id)));

        // The guest sees the new CPU through ACPI and onlines it.
        let sysfs = "";
        for (let i = 0; i < 50 && !sysfs.includes("cpu1"); i++) {
          sysfs = (await g.exec("ls /sys/devices/system/cpu")).stdout;
          if (!sysfs.includes("cpu1")) await new Promise((r) => setTimeout(r, 200));
        }
        assert.match(sysfs, /cpu1/);
        const online = await g.exec(
          "echo 1 > /sys/devices/system/cpu/cpu1/online && cat /sys/devices/system/cpu/online",
        );
        assert.equal(online.code, 0, online.stderr);
        seen.online = online.stdout.trim();
        seen.nproc = (await g.exec("nproc")).stdout.trim();

        // Memory hotplug: a 128 MiB DIMM appears as offline memory blocks, which the guest onlines.
        const memTotal = async () => Number(/MemTotal:\s+(\d+)/.exec((await g.exec("cat /proc/meminfo")).stdout)?.[1]);
        const memBefore = await memTotal();
        const dimm = await g.qmp.hotplugMemory({ sizeMiB: 128 });
        assert.equal((await g.qmp.queryMemoryDevices()).find((d) => d.data.id === dimm.id)?.data.size, 128 << 20);
        let memAfter = memBefore;
        for (let i = 0; i < 25 && memAfter - memBefore < 120 * 1024; i++) {
          await g.exec(
            "for f in /sys/devices/system/memory/memory*/state; do grep -q offline $f && echo online > $f; done",
          );
          memAfter = await memTotal();
          if (memAfter - memBefore < 120 * 1024) await new Promise((r) => setTimeout(r, 200));
        }
        seen.memGrowthKiB = memAfter - memBefore;

        // vCPU unplug: QEMU asks the guest through ACPI, the guest ejects it, QEMU reports the deletion.
        await g.qmp.deviceDel(plugged.id, { waitMs: 20_000 });
        assert.equal((await g.qmp.queryCpusFast()).length, 1);
        seen.onlineAfterUnplug = (await g.exec("cat /sys/devices/system/cpu/online")).stdout.trim();
        seen.shutdown = await g.shutdown();
        seen.stderr = g.stderr;
        seen.aliveAfter = processAlive(g.pid);
        return { ok: true };
      },
    });
    using store = ResultsStore.open(":memory:");
    const out = await runPlaybook(pb, {}, { store });
    assert.equal(out.status, "ok", String(out.error));

    // The guest used what the (cached) probe decided: TCG on machines where KVM cannot boot Linux, like this one.
    const verdict = await decideAccel("auto", await fetchKernel());
    assert.equal(seen.accel, verdict.accel, verdict.reason);
    assert.match(String(seen.uname), /^\d+\.\d+\.\d+-\d+-amd64\n0\n$/);
    assert.equal(seen.online, "0-1");
    assert.equal(seen.nproc, "2");
    assert.equal(seen.onlineAfterUnplug, "0");
    assert.ok((seen.memGrowthKiB as number) >= 120 * 1024, `MemTotal grew by ${seen.memGrowthKiB} KiB`);
    assert.deepEqual((seen.shutdown as { how: string; exit: { code: number } }).how, "guest-poweroff");
    assert.equal(
      (seen.shutdown as { exit: { code: number } }).exit.code,
      0,
      `QEMU exit ${JSON.stringify(seen.shutdown)}; stderr: ${seen.stderr}`,
    );
    assert.equal(seen.aliveAfter, false);
    assert.equal(processAlive(seen.pid as number), false);
    assert.equal(pathExists(seen.dir as string), false, "runtime dir removed");
    const ep = seen.endpoint as Record<string, unknown>;
    assert.equal(ep.host, "127.0.0.1");
    assert.equal(ep.user, "root");
    assert.match(String(ep.hostKey), /^ssh-ed25519 /);

    const arts = store.artifacts(out.runId);
    const con = arts.find((a) => a.name === "guest-hp1-console.log");
    assert.ok(con, `console artifact missing: ${JSON.stringify(arts)}`);
    assert.match(new TextDecoder().decode(store.artifactData(con.id)), /hyperlab-guest: sshd ready/);
    const facts = store.facts(out.runId) as Record<string, { accel: string; accelReason: string }>;
    assert.equal(facts["guest:hp1"].accel, verdict.accel);
    assert.ok(facts["guest:hp1"].accelReason.length > 0);
    const metrics = store.metrics(out.runId).map((m) => m.name);
    assert.ok(metrics.includes("guest.boot.userspace") && metrics.includes("guest.boot.ssh_ready"), String(metrics));
    const plan = store.planEntries(out.runId);
    assert.ok(plan.some((p) => p.kind === "qemu" && p.action.includes("maxcpus=2")));
    assert.ok(store.logs(out.runId).some((l) => l.source === "guest:hp1" && l.message.includes("userspace")));
    console.log(`boot times (ms): ${JSON.stringify(seen.boot)}`);
  },
});

import assert from "node:assert/strict";
import { z } from "zod";
import { InputError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { startGuest } from "../../../lib/lab/guests_mod.ts";

Deno.test("guests under --dry-run: QEMU command line, SSH and QMP calls are planned, nothing runs; bad calls refused", async () => {
  let pid = -1;
  const pb = definePlaybook({
    name: "test-guest-dry",
    description: "plans a guest",
    params: z.object({}),
    async run() {
      const g = await startGuest({ name: "dry1", cpus: 1, maxCpus: 2, iommu: {}, accel: "tcg" });
      pid = g.pid;
      await g.waitFor(/ready/);
      await g.exec("uname -r");
      await g.qmp.hotplugCpu();
      await assert.rejects(g.exec(""), (e: unknown) => e instanceof InputError && e.field === "command");
      await assert.rejects(
        g.waitFor("ready" as unknown as RegExp),
        (e: unknown) => e instanceof InputError && e.field === "re",
      );
      await assert.rejects(
        g.waitFor(/x/, { timeoutMs: -1 }),
        (e: unknown) => e instanceof InputError && e.field === "timeoutMs",
      );
      await g.shutdown();
    },
  });
  using store = ResultsStore.open(":memory:");
  const out = await runPlaybook(pb, {}, { store, dryRun: true });
  assert.equal(out.status, "ok", String(out.error));
  assert.equal(pid, 0, "no QEMU process in a dry run");
  const plan = store.planEntries(out.runId).map((p) => `${p.kind} ${p.target}: ${p.action}`);
  assert.match(plan[0], /^qemu dry1: qemu-system-x86_64 .*-smp cpus=1,maxcpus=2 .*intel-iommu,device-iotlb=on/);
  assert.ok(plan.includes("qemu dry1: wait for console /ready/"), plan.join("\n"));
  assert.ok(plan.includes("ssh dry1: uname -r"), plan.join("\n"));
  assert.ok(plan.includes("qmp dry1: query-hotpluggable-cpus"), plan.join("\n"));
  assert.ok(plan.some((p) => p.startsWith("qmp dry1: device_add")), plan.join("\n"));
});

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { BmcSimulator, IpmiError } from "../../../lib/ipmi/mod.ts";
import { connectCluster, waitFor } from "../../../lib/remote/mod.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

const PASSWORD = "bmc-Secret-771";

Deno.test({
  name: "ipmi: power status/on/off/cycle and SOL capture against ipmi_sim; password never recorded",
  ignore: skipIf(needCommand("ipmi_sim", "openipmi") ?? needCommand("ipmitool")),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    using dir = tempDir("hyperlab-ipmi-");
    await using sim = await BmcSimulator.start(dir.path, "bmc0", PASSWORD);
    const pwFile = join(dir.path, "bmc.pw");
    writeFileSync(pwFile, PASSWORD + "\n", { mode: 0o600 });
    const yaml = (password: string) => `
nodes:
  - name: b0
    host: 127.0.0.1
    user: nobody
    ipmi: { host: 127.0.0.1, port: ${sim.bmc.port}, user: admin, password: { file: ${password} } }
  - { name: plain, host: 127.0.0.1, user: nobody }
`;
    const inv = parseInventoryYaml(yaml(pwFile), "ipmi.yaml", dir.path);
    using store = ResultsStore.open(":memory:");

    await t.step("power on, console, cycle (a real reboot of the stand-in machine), off", async () => {
      const pb = definePlaybook({
        name: "ipmi-power",
        description: "t",
        params: z.object({}),
        async run(ctx) {
          const b0 = connectCluster(inv).node("b0");
          assert.equal(await b0.power.status(), "off");
          await b0.power.on();
          await waitFor(async () => (await b0.power.status()) === "on", { timeout: 5000, what: "power on" });
          const boot1 = await b0.power.console({ durationMs: 8000, until: /uptime .* boot 1/ });
          assert.match(boot1, /bmc0 uptime [\d.]+s boot 1/);
          await b0.power.cycle();
          await waitFor(() => sim.boots() === 2, { timeout: 8000, what: "second boot" });
          await waitFor(async () => (await b0.power.status()) === "on", { timeout: 5000, what: "power back on" });
          const boot2 = await b0.power.console({ durationMs: 8000, until: /boot 2/ });
          assert.match(boot2, /boot 2/);
          await b0.power.off();
          assert.equal(await b0.power.status(), "off");
          ctx.log.info(`done with ${inv.ipmiPassword("b0")}`);
          return { boots: sim.boots() };
        },
      });
      const out = await runPlaybook(pb, {}, { store, inventory: inv.toRecord(), secrets: inv.secrets() });
      assert.equal(out.status, "ok", String(out.error));
      assert.deepEqual(out.result, { boots: 2 });
      const logs = store.logs(out.runId);
      assert.ok(logs.some((l) => l.source === "b0" && /uptime/.test(l.message)), "console lines logged with the node");
      const dump = JSON.stringify([store.getRun(out.runId), logs, store.planEntries(out.runId)]);
      assert.ok(!dump.includes(PASSWORD), "BMC password leaked into the record");
    });

    await t.step("dry-run plans ipmitool without the password and does not power on", async () => {
      const pb = definePlaybook({
        name: "ipmi-dry",
        description: "t",
        params: z.object({}),
        async run() {
          await connectCluster(inv).node("b0").power.on();
        },
      });
      const out = await runPlaybook(pb, {}, { store, dryRun: true, secrets: inv.secrets() });
      assert.equal(out.status, "ok");
      const plan = store.planEntries(out.runId);
      assert.equal(plan.length, 1);
      assert.equal(plan[0].kind, "ipmi");
      assert.match(plan[0].action, /ipmitool .* -E .*chassis power on/);
      assert.ok(!plan[0].action.includes(PASSWORD));
      assert.equal(await connectCluster(inv).node("b0").power.status(), "off");
    });

    await t.step("wrong password and missing endpoint fail naming the node", async () => {
      const badFile = join(dir.path, "bad.pw");
      writeFileSync(badFile, "not-the-password\n");
      const bad = connectCluster(parseInventoryYaml(yaml(badFile), "bad.yaml", dir.path));
      await assert.rejects(
        () => bad.node("b0").power.status(),
        (e: unknown) => e instanceof IpmiError && e.node === "b0" && !e.message.includes("not-the-password"),
      );
      await assert.rejects(
        () => connectCluster(inv).node("plain").power.status(),
        (e: unknown) => e instanceof InputError && e.field === 'node "plain" ipmi',
      );
    });
  },
});

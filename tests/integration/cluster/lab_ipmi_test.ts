import assert from "node:assert/strict";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { labDown, labUp } from "../../../lib/lab/mod.ts";
import { connectCluster, RemoteError, waitFor } from "../../../lib/remote/mod.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { labSkipReason, processesMatching } from "./_lab.ts";

Deno.test({
  name: "lab --ipmi: each node's BMC powers the node itself (off = unreachable, on/cycle = sshd back, console boots)",
  ignore: skipIf(labSkipReason() ?? needCommand("ipmi_sim", "openipmi") ?? needCommand("ipmitool")),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-hlq-" });
    const opts = { dir, prefix: "hlq", subnet: 206 };
    try {
      const lab = await labUp(2, { ...opts, ipmi: true });
      const inv = await loadInventory(lab.inventory);
      assert.equal(inv.node("n1").ipmi?.host, "127.0.0.1");
      using c = connectCluster(inv, { retries: 0, connectTimeoutMs: 2000 });
      const n1 = c.node("n1");
      assert.equal(await n1.power.status(), "on");
      assert.match(await n1.power.console({ durationMs: 3000, until: /n1 uptime .* boot 1/ }), /boot 1/);

      await n1.power.off();
      assert.equal(await n1.power.status(), "off");
      await assert.rejects(
        () => n1.run(["true"], { stream: false }),
        (e: unknown) => e instanceof RemoteError && e.node === "n1" && e.reason === "unreachable",
      );
      assert.equal((await c.node("n0").run(["echo", "ok"], { stream: false })).stdout, "ok\n", "n0 unaffected");

      await n1.power.on();
      assert.equal((await n1.run(["echo", "back"], { stream: false })).stdout, "back\n");
      await n1.power.cycle();
      await waitFor(
        async () => (await n1.run(["true"], { check: false, stream: false }).catch(() => null))?.exitCode === 0,
        {
          timeout: 10_000,
          interval: 200,
          what: "n1 back after the power cycle",
        },
      );
      assert.match(await n1.power.console({ durationMs: 3000, until: /boot 3/ }), /boot 3/);
    } finally {
      await labDown(opts);
    }
    await waitFor(() => processesMatching(dir).length === 0, { timeout: 5000, what: "BMC daemons gone" });
  },
});

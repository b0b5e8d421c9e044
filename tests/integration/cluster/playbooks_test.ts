import assert from "node:assert/strict";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { retryLimit } from "../../../lib/remote/mod.ts";
import factsPlaybook from "../../../playbooks/cluster/facts.ts";
import runPlaybookDef from "../../../playbooks/cluster/run.ts";
import { skipIf } from "../../_helpers.ts";
import { labSkipReason, withLab } from "./_lab.ts";

Deno.test({
  name:
    "playbooks cluster/run and cluster/facts on a lab: per-node results, limit, retry of failed nodes, facts stored",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withLab("hlp", 207, 2, async (lab) => {
      using store = ResultsStore.open(":memory:");
      type RunResult = { ok: string[]; failed: string[]; nodes: { node: string; exitCode?: number }[] };
      const ok = await runPlaybook<RunResult>(runPlaybookDef, { inventory: lab.inventory, command: "uname -r" }, {
        store,
      });
      assert.equal(ok.status, "ok", String(ok.error));
      assert.deepEqual(ok.result!.ok, ["n0", "n1"]);
      assert.ok(store.logs(ok.runId).some((l) => l.source === "n1" && l.message === Deno.osRelease()));

      const limited = await runPlaybook<RunResult>(runPlaybookDef, {
        inventory: lab.inventory,
        limit: "n1",
        command: `test "$(hostname -I | cut -d' ' -f1)" != ${lab.nodes[1].ip}`,
        shell: true,
      }, { store });
      assert.deepEqual(limited.result!.failed, ["n1"]);
      assert.deepEqual((limited.result as unknown as { failedNodes: string[] }).failedNodes, ["n1"]);
      assert.equal(retryLimit(store, limited.runId), "n1");

      const facts = await runPlaybook(factsPlaybook, { inventory: lab.inventory }, { store });
      assert.equal(facts.status, "ok", String(facts.error));
      assert.deepEqual(Object.keys(store.facts(facts.runId)).sort(), ["n0", "n1"]);
    });
  },
});

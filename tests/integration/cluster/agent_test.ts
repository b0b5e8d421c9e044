import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { InputError, MissingError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { kvmFacts } from "../../../lib/kvm/facts.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { connectCluster, type HostFacts, type RemoteAgent, waitFor } from "../../../lib/remote/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { labSkipReason, processesMatching, withLab } from "./_lab.ts";

Deno.test({
  name: "agent: installed by content hash, typed calls and errors, KVM facts and host facts from lab nodes",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await withLab("hla", 204, 2, async (lab) => {
      const cacheDir = `/tmp/hl-agent-cache-${crypto.randomUUID()}`;
      const yaml = readFileSync(lab.inventory, "utf8") + "  - { name: here, host: localhost, local: true }\n";
      const inv = parseInventoryYaml(yaml, "agent.yaml", lab.dir);
      const cluster = connectCluster(inv);
      const [n0, n1, here] = cluster.nodes;
      try {
        await t.step("first node uploads Deno and the source; the second finds them cached by hash", async () => {
          const a0 = n0.agent({ cacheDir }) as RemoteAgent;
          const p0 = await a0.call("ping", {});
          assert.notEqual(p0.pid, Deno.pid);
          assert.deepEqual(a0.install?.uploaded, { deno: true, source: true });
          assert.ok(existsSync(a0.install!.deno) && existsSync(`${a0.install!.sourceDir}/lib/remote/agent_main.ts`));
          const a1 = n1.agent({ cacheDir }) as RemoteAgent;
          await a1.call("ping", {});
          assert.deepEqual(a1.install?.uploaded, { deno: false, source: false });
        });

        await t.step({
          name: "kvmFacts runs in the agent on each lab node (same answer as in-process here)",
          ignore: skipIf(existsSync("/dev/kvm") ? null : "/dev/kvm absent"),
          fn: async () => {
            const local = kvmFacts();
            for (const n of [n0, n1]) {
              const f = await n.agent().call("kvmFacts", {});
              assert.equal(f.apiVersion, local.apiVersion);
              assert.deepEqual(f.caps, local.caps);
            }
            const inProc = await here.agent().call("kvmFacts", {});
            assert.equal(inProc.apiVersion, local.apiVersion);
          },
        });

        await t.step("typed errors cross the wire", async () => {
          await assert.rejects(
            () => n0.agent().call("kvmFacts", { device: "/dev/hl-no-such-kvm" }),
            (e: unknown) =>
              e instanceof MissingError && /node n0 \(agent\)/.test(e.message) && /hl-no-such-kvm/.test(e.message),
          );
          await assert.rejects(
            () => n1.agent().call("kvmFacts", { device: "relative/path" }),
            (e: unknown) => e instanceof InputError && e.field === "device",
          );
          await assert.rejects(
            () => here.agent().call("kvmFacts", { device: "/dev/hl-no-such-kvm" }),
            (e: unknown) => e instanceof MissingError && /local agent/.test(e.message),
          );
          // The agent survives errors.
          assert.equal((await n0.agent().call("ping", {})).hostname.length > 0, true);
        });

        await t.step("node.facts(): via the agent, cached per run, stored in the run record", async () => {
          using store = ResultsStore.open(":memory:");
          const pb = definePlaybook({
            name: "facts",
            description: "t",
            params: z.object({}),
            async run() {
              const first = await Promise.all(cluster.nodes.map((n) => n.facts()));
              const again = await n0.facts();
              assert.equal(again, first[0], "cached within the run");
              return first;
            },
          });
          const out = await runPlaybook<HostFacts[]>(pb, {}, { store });
          assert.equal(out.status, "ok", String(out.error));
          const stored = store.facts(out.runId) as Record<string, HostFacts>;
          assert.deepEqual(Object.keys(stored).sort(), ["here", "n0", "n1"]);
          for (const f of Object.values(stored)) {
            assert.equal(f.os.id, "debian");
            assert.equal(f.kernel.release, Deno.osRelease());
            assert.ok(f.cpus.count >= 1 && f.memory.totalKiB > 0 && f.numa.length >= 1);
            assert.equal(f.kvm.present, existsSync("/dev/kvm"));
          }
          if (existsSync("/dev/kvm")) assert.equal(stored.n0.kvm.usable, true, stored.n0.kvm.error);
        });
      } finally {
        cluster.close();
        await waitFor(() => processesMatching(cacheDir).length === 0, { timeout: 5000, what: "agents to exit" });
        Deno.removeSync(cacheDir, { recursive: true });
      }
    });
  },
});

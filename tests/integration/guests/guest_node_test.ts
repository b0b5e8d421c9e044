/**
 * Guests started through a node's command runner (here the local machine as a node; the cluster layer's SSH runner
 * has the same shape): daemonized QEMU, uploads into the node cache, QMP through the node, cleanup by the run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { InputError, MissingError, TimeoutError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import {
  attachNodeGuest,
  cacheRoot,
  localNodeRunner,
  type NodeRunner,
  QmpError,
  startGuestOnNode,
} from "../../../lib/lab/guests_mod.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools, pathExists, processAlive } from "./_guest_env.ts";

Deno.test({
  name: "node guests: start through a node runner, QMP via the node, hotplug, console timeout, stopped by the run",
  ignore: skipIf(needGuestTools() ?? (pathExists("/bin/bash") ? null : "bash absent")),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const calls: string[] = [];
    const local = localNodeRunner("n1");
    const node: NodeRunner = {
      name: "n1",
      run(argv, o) {
        calls.push(argv[0]);
        return local.run(argv, o);
      },
    };
    const seen: Record<string, unknown> = {};
    const pb = definePlaybook({
      name: "test-node-guest",
      description: "a guest on a node",
      params: z.object({}),
      async run() {
        const g = await startGuestOnNode(node, { name: "onnode", accel: "tcg", maxCpus: 2, waitUntil: "started" }, {
          cacheDir: join(cacheRoot(), "node-upload"),
        });
        seen.pid = g.pid;
        seen.dir = g.dir;
        assert.ok(g.argv.includes("-daemonize"));
        assert.equal(g.endpoint?.via, "n1");
        assert.equal((await g.qmp.status()).running, true);
        const cpu = await g.qmp.hotplugCpu();
        assert.equal((await g.qmp.queryCpusFast()).length, 2);
        assert.match(cpu.id, /^hl-cpu-/);
        await assert.rejects(g.qmp.run("no-such-command", undefined, () => 0), (e: unknown) => {
          assert.ok(e instanceof QmpError);
          assert.equal(e.errorClass, "CommandNotFound");
          return true;
        });
        await assert.rejects(g.waitFor(/never printed/, { timeoutMs: 1500, pollMs: 200 }), (e: unknown) => {
          assert.ok(e instanceof TimeoutError);
          assert.match(
            e.message,
            /guest n1\/onnode: waiting for \/never printed\/.*timed out after 1500 ms\nconsole tail:/s,
          );
          return true;
        });
        assert.ok(await g.running());
        // Another process (e.g. `lab down`) re-attaches from the saved state and drives the same QEMU.
        const again = attachNodeGuest(node, JSON.parse(JSON.stringify(g.state())));
        assert.equal((await again.qmp.queryCpusFast()).length, 2);
        assert.ok(await again.running());
        assert.throws(
          () => attachNodeGuest(localNodeRunner("other"), g.state()),
          (e: unknown) => e instanceof InputError && e.field === "state.node",
        );
        // Returning leaves the guest to the run's deferred cleanup.
      },
    });
    using store = ResultsStore.open(":memory:");
    const out = await runPlaybook(pb, {}, { store });
    assert.equal(out.status, "ok", String(out.error));
    assert.equal(processAlive(seen.pid as number), false, "QEMU on the node stopped by the run's cleanup");
    assert.equal(pathExists(seen.dir as string), false);
    assert.ok(calls.includes("qemu-system-x86_64") && calls.includes("timeout"), calls.join(","));
    const facts = store.facts(out.runId) as Record<string, { node: string; accel: string }>;
    assert.equal(facts["guest:n1/onnode"].node, "n1");
  },
});

Deno.test({
  name: "node guests: a node without QEMU is a MissingError naming the node; a bad node is an InputError",
  async fn() {
    using empty = tempDir();
    await assert.rejects(
      startGuestOnNode(localNodeRunner("bare", { PATH: empty.path }), { accel: "tcg" }),
      (e: unknown) => {
        assert.ok(e instanceof MissingError, String(e));
        assert.match(e.message, /must be installed on node bare/);
        assert.match(e.hint ?? "", /apt-get install qemu-system-x86/);
        return true;
      },
    );
    await assert.rejects(
      startGuestOnNode({ name: "x" } as unknown as NodeRunner),
      (e: unknown) => e instanceof InputError && e.field === "node",
    );
    await assert.rejects(
      startGuestOnNode(localNodeRunner(), { cpus: 0 }),
      (e: unknown) => e instanceof InputError && e.field === "cpus",
    );
  },
});

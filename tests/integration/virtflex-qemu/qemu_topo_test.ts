/**
 * virtflex/qemu-topo end to end on one real QEMU guest (TCG here): expand node 1 by a vCPU and a 128 MB DIMM, then
 * shrink it again, each change confirmed inside the guest through /sys/devices/system/node and timed; the run
 * records the topology before/after as facts, the timings as metrics and the console and result as artifacts, and
 * leaves no QEMU behind.
 */
import assert from "node:assert/strict";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import type { GuestTopology } from "../../../lib/virtflex/mod.ts";
import playbook from "../../../playbooks/virtflex/qemu-topo.ts";
import { skipIf } from "../../_helpers.ts";
// The guests library's own list of what a guest needs here (kept up to date with its image).
import { needGuestTools } from "../guests/_guest_env.ts";

function node(t: GuestTopology, n: number) {
  const x = t.nodes.find((y) => y.node === n);
  assert.ok(x, `node${n} in ${JSON.stringify(t)}`);
  return x;
}

Deno.test({
  name: "virtflex/qemu-topo: expand node 1 (vCPU + DIMM) and shrink it, seen in the guest's /sys/devices/system/node",
  ignore: skipIf(needGuestTools()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using store = ResultsStore.open(":memory:");
    const t0 = performance.now();
    const tag = Date.now().toString(36);
    const name = `vf-topo-${tag}`;
    const out = await runPlaybook(playbook, { name, node: 1, vcpus: 1, sizeMb: 128, action: "both", timeoutS: 60 }, {
      store,
    });
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(out.status, "ok", String(out.error));

    const facts = store.facts(out.runId) as Record<string, unknown>;
    const before = facts["topology:before"] as GuestTopology;
    const grown = facts["topology:after-expand"] as GuestTopology;
    const shrunk = facts["topology:after-shrink"] as GuestTopology;
    assert.ok(before && grown && shrunk, `topology facts: ${Object.keys(facts)}`);
    // Boot: one vCPU per node (cpu0 on node0, cpu1 on node1), 256 MB each.
    assert.deepEqual(node(before, 0).cpus, [0]);
    assert.deepEqual(node(before, 1).cpus, [1]);
    // Expand: a new CPU in node1's cpulist only, node1 MemTotal up by exactly the 128 MB DIMM.
    assert.deepEqual(node(grown, 1).cpus, [1, 2]);
    assert.deepEqual(node(grown, 0).cpus, [0]);
    assert.equal(node(grown, 1).memTotalKiB - node(before, 1).memTotalKiB, 128 * 1024);
    assert.equal(node(grown, 0).memTotalKiB, node(before, 0).memTotalKiB);
    assert.deepEqual(grown.online, [0, 1, 2]);
    // Shrink: back to the boot topology.
    assert.deepEqual(node(shrunk, 1).cpus, [1]);
    assert.equal(node(shrunk, 1).memTotalKiB, node(before, 1).memTotalKiB);
    assert.deepEqual(shrunk.online, [0, 1]);

    const result = out.result as {
      expand: { cpus: { cpu: number; props: Record<string, number> }[]; dimm: { addr: number } };
    };
    assert.equal(result.expand.cpus[0].cpu, 2);
    assert.equal(result.expand.cpus[0].props["node-id"], 1);

    const metrics = new Map(store.metrics(out.runId).map((m) => [m.name, m.value]));
    const timed = [
      "virtflex.qemu.cpu_add.present_ms",
      "virtflex.qemu.cpu_add.node_ms",
      "virtflex.qemu.mem_add.node_ms",
      "virtflex.qemu.mem_remove.offline_ms",
      "virtflex.qemu.mem_remove.deleted_ms",
      "virtflex.qemu.mem_remove.gone_ms",
      "virtflex.qemu.cpu_remove.offline_ms",
      "virtflex.qemu.cpu_remove.deleted_ms",
      "virtflex.qemu.cpu_remove.gone_ms",
    ];
    for (const name of timed) {
      const v = metrics.get(name);
      assert.ok(v !== undefined && v > 0 && v < 60_000, `${name} = ${v}`);
    }
    assert.ok(metrics.get("virtflex.qemu.cpu_add.node_ms")! >= metrics.get("virtflex.qemu.cpu_add.present_ms")!);

    const arts = store.artifacts(out.runId).map((a) => a.name);
    assert.ok(arts.includes("qemu-topo.json") && arts.includes(`guest-${name}-console.log`), String(arts));
    const argv = (facts[`guest:${name}`] as { argv: string[] }).argv;
    assert.ok(argv.join(" ").includes("maxcpus=4"));
    const left = await new Deno.Command("pgrep", { args: ["-f", `guest=vf-topo-${tag} `], stdout: "piped" }).output();
    assert.equal(new TextDecoder().decode(left.stdout).trim(), "", "no QEMU of this guest left");
    console.log(`run took ${seconds.toFixed(1)} s; ms: ${JSON.stringify(Object.fromEntries(metrics))}`);
  },
});

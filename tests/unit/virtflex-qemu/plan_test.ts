/**
 * virtflex/qemu-topo without a guest: `--dry-run` plans the QEMU command line, every QMP command (in order, with the
 * node's slot and the DIMM on the node) and the guest commands; bad parameters stop the run before anything starts,
 * naming the flag.
 */
import assert from "node:assert/strict";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import playbook from "../../../playbooks/virtflex/qemu-topo.ts";
import { cli } from "../../_cli.ts";

Deno.test("qemu-topo --dry-run: plans QEMU, every QMP command in order and the guest's offline/online commands", async () => {
  using store = ResultsStore.open(":memory:");
  const out = await runPlaybook(playbook, { node: 0, vcpus: 1, sizeMb: 256 }, { store, dryRun: true });
  assert.equal(out.status, "ok", String(out.error));
  const plan = store.planEntries(out.runId);
  const qemu = plan.filter((p) => p.kind === "qemu" && p.action.startsWith("qemu-system-x86_64"));
  assert.equal(qemu.length, 1);
  assert.match(qemu[0].action, /-smp cpus=2,maxcpus=4 -m size=512M,slots=1,maxmem=768M/);
  assert.match(qemu[0].action, /-numa node,nodeid=0,cpus=0,cpus=2,memdev=numa-mem0/);
  assert.match(qemu[0].action, /memhp_default_state=online_movable possible_cpus=9/);

  const qmp = plan.filter((p) => p.kind === "qmp").map((p) => p.action);
  const changes = qmp.filter((a) => /^(device_add|object-add|device_del|object-del) /.test(a));
  assert.deepEqual(changes, [
    'device_add {"driver":"max-x86_64-cpu","id":"vf-cpu-n0-s0c2t0","socket-id":0,"core-id":2,"thread-id":0,"node-id":0}',
    'object-add {"qom-type":"memory-backend-ram","id":"vf-dimm-n0-1-mem","size":268435456}',
    'device_add {"driver":"pc-dimm","id":"vf-dimm-n0-1","memdev":"vf-dimm-n0-1-mem","node":0}',
    'device_del {"id":"vf-dimm-n0-1"}',
    'object-del {"id":"vf-dimm-n0-1-mem"}',
    'device_del {"id":"vf-cpu-n0-s0c2t0"}',
  ]);
  assert.ok(qmp.includes("query-hotpluggable-cpus") && qmp.includes("query-memory-devices"));
  const ssh = plan.filter((p) => p.kind === "ssh").map((p) => p.action);
  // The DIMM's two 128 MB blocks at the expected 4 GiB address are offlined before device_del; the vCPU too.
  assert.ok(ssh.some((a) => a.includes("memory32/state /sys/devices/system/memory/memory33/state")), ssh.join("\n"));
  assert.ok(ssh.some((a) => a.includes("echo 0 > /sys/devices/system/cpu/cpuN/online")));
  assert.ok(ssh.some((a) => a.includes('"$S/devices/system/node/node0/cpulist"')));
  // Nothing measured in a dry run.
  assert.deepEqual(store.metrics(out.runId).filter((m) => m.name.startsWith("virtflex.")), []);
});

Deno.test("qemu-topo --action expand plans no removal", async () => {
  using store = ResultsStore.open(":memory:");
  const out = await runPlaybook(playbook, { action: "expand", sizeMb: 0 }, { store, dryRun: true });
  assert.equal(out.status, "ok", String(out.error));
  const qmp = store.planEntries(out.runId).filter((p) => p.kind === "qmp").map((p) => p.action.split(" ")[0]);
  assert.deepEqual(qmp.filter((c) => c !== "query-hotpluggable-cpus" && c !== "query-version"), ["device_add"]);
});

Deno.test("qemu-topo --repeat: one fresh guest per cycle, each planned with its own name", async () => {
  using store = ResultsStore.open(":memory:");
  const out = await runPlaybook(playbook, { repeat: 2 }, { store, dryRun: true });
  assert.equal(out.status, "ok", String(out.error));
  const plan = store.planEntries(out.runId);
  const qemu = plan.filter((p) => p.kind === "qemu" && p.action.startsWith("qemu-system-x86_64"));
  assert.deepEqual(qemu.map((q) => /-name guest=(\S+)/.exec(q.action)?.[1]), ["vf-topo-c1", "vf-topo-c2"]);
  assert.equal(plan.filter((p) => p.kind === "qmp" && p.action.startsWith("device_add")).length, 4);
});

Deno.test("qemu-topo: bad parameters fail before a guest starts, naming the flag", async () => {
  for (
    const [params, re] of [
      [{ node: 2 }, /--node: expected a guest NUMA node 0\.\.1/],
      [{ vcpus: 3, cpuSlots: 2 }, /--vcpus: expected at most --cpu-slots \(2\)/],
      [{ sizeMb: 64 }, /--size-mb: expected a multiple of 128 MB/],
      [{ repeat: 10, name: "a".repeat(28) }, /--name: expected at most 27 characters with --repeat 10/],
    ] as const
  ) {
    using store = ResultsStore.open(":memory:");
    const out = await runPlaybook(playbook, params, { store, dryRun: true });
    assert.equal(out.status, "failed");
    assert.match(String((out.error as Error)?.message ?? out.error), re);
    assert.equal(store.planEntries(out.runId).length, 0, "nothing planned");
  }
});

Deno.test("qemu-topo CLI: an unknown node is refused with the flag and the expectation", async () => {
  const r = await cli("play", ["virtflex/qemu-topo", "--node", "5", "--dry-run"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /--node: expected a guest NUMA node 0\.\.1 \(the guest has --nodes 2\) \(got 5\)/);
  const bad = await cli("play", ["virtflex/qemu-topo", "--action", "grow", "--dry-run"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /--action/);
});

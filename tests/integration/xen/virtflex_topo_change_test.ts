/**
 * The Virtflex playbook end to end against the embedded xenstored, with BalloonDriverDouble (a TEST DOUBLE of the
 * guest's balloon driver, following the documented protocol over a domain connection) answering as domain 3.
 */
import assert from "node:assert/strict";
import { InputError, TimeoutError } from "../../../lib/core/errors.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { virtflexPaths, writeVirtflexLayout } from "../../../lib/xen/mod.ts";
import { XsWireClient } from "../../../lib/xenstore/mod.ts";
import { BalloonDriverDouble } from "../../../lib/xenstore/testing/mod.ts";
import topoChange from "../../../playbooks/virtflex/topo-change.ts";
import { waitForCompletion } from "../../../playbooks/virtflex/procedure.ts";
import { startDaemon } from "../xenstore/_daemon.ts";

Deno.env.set("CI", "1"); // never prompt inside tests, even from a terminal

const DOM = 3;
const GiB4 = 4096 * 1024;

async function lab() {
  const f = await startDaemon();
  await f.daemon.listenDomain(DOM, `${f.dir}/dom${DOM}.sock`);
  const dom0 = await XsWireClient.connect(f.socket);
  await writeVirtflexLayout(dom0, DOM, {
    name: "ubu-pv0",
    nodes: [{ pnode: 0, sizeMb: 4096, vcpus: [0, 1] }, { pnode: 1, sizeMb: 4096, vcpus: [2, 3] }],
  });
  const store = ResultsStore.open(`${f.dir}/results.db`);
  return {
    f,
    dom0,
    store,
    async [Symbol.asyncDispose]() {
      store.close();
      await dom0.close();
      await f[Symbol.asyncDispose]();
    },
  };
}

const base = (socket: string) => ({ domain: "ubu-pv0", xenstore: socket, pollMs: 20, timeoutS: 5 });
const slowPoll = (socket: string) => ({ ...base(socket), pollMs: 2000 });

Deno.test("virtflex: shrink then expand node 1, guest double completes, time recorded", async () => {
  await using l = await lab();
  await using guest = await BalloonDriverDouble.start({ socketPath: `${l.f.dir}/dom${DOM}.sock`, applyDelayMs: 100 });
  const p = virtflexPaths(DOM);

  const shrink = await runPlaybook(topoChange, { ...base(l.f.socket), action: "shrink", node: 1 }, { store: l.store });
  assert.equal(shrink.status, "ok", String(shrink.error));
  const r = shrink.result as { targetKiB: number; vcpus: number[]; ms: number; substrate: string; guestSide: string };
  assert.match(r.substrate, /embedded xenstored/);
  assert.match(r.guestSide, /TEST DOUBLE of the Virtflex balloon driver/);
  assert.equal(r.targetKiB, 151552, "(80 + 4096/1024*17) * 1024");
  assert.deepEqual(r.vcpus, [2, 3]);
  assert.ok(r.ms >= 50, `took ${r.ms} ms: most of the guest's 100 ms apply time`);
  assert.equal(l.f.daemon.stats().watches, 1, "the completion watch was removed (only the double's remains)");
  assert.equal(guest.applied.length, 1);
  assert.deepEqual(guest.applied[0], {
    kind: "shrink",
    targets: { 0: GiB4, 1: 151552 },
    onlineVcpus: [0, 1],
    topoVersion: 1,
    reset: true,
  });
  assert.equal(await l.dom0.read(p.topoChange), "0");
  assert.deepEqual(await l.dom0.getPerms(p.topoChange), [{ id: 0, access: "b" }], "chmod b happened");
  const metric = l.store.metrics(shrink.runId).find((m) => m.name === "virtflex.topo_change_ms");
  assert.ok(metric && metric.value === r.ms);

  const expand = await runPlaybook(topoChange, { ...slowPoll(l.f.socket), action: "expand", node: 1, via: "wire" }, {
    store: l.store,
  });
  assert.equal(expand.status, "ok", String(expand.error));
  const ms = (expand.result as { ms: number }).ms;
  assert.ok(ms < 1500, `completion seen through the watch (${ms} ms), not the 2 s poll`);
  assert.equal(guest.applied[1].kind, "expand");
  assert.deepEqual(guest.applied[1].targets, { 0: GiB4, 1: GiB4 });
  assert.deepEqual(guest.applied[1].onlineVcpus, [0, 1, 2, 3]);
  assert.equal(guest.topoVersion, 2);
});

Deno.test("virtflex: --dry-run plans every xenstore write and xl command and changes nothing", async () => {
  await using l = await lab();
  const out = await runPlaybook(
    topoChange,
    { ...base(l.f.socket), action: "expand", node: 1, vcpuMethod: "vcpu-set", pin: true, dom0Vcpus: 2 },
    { store: l.store, dryRun: true },
  );
  assert.equal(out.status, "ok", String(out.error));
  const plan = l.store.planEntries(out.runId).map((e) => `${e.kind}: ${e.action}`);
  const h = `/local/domain/${DOM}`;
  assert.deepEqual(plan, [
    "xl: xl vcpu-pin 3 0 0",
    "xl: xl vcpu-pin 3 1 1",
    "xl: xl vcpu-pin 3 2 2",
    "xl: xl vcpu-pin 3 3 3",
    "xl: xl vcpu-pin 0 0 0",
    "xl: xl vcpu-pin 0 1 1",
    "xl: xl vcpu-set 3 4",
    `xenstore: write ${h}/numa/topo_change "1"`,
    `xenstore: chmod ${h}/numa/topo_change b0`,
    `xenstore: write ${h}/numa/node/1/target "4194304"`,
    `xenstore: watch and poll ${h}/numa/topo_change (every 20 ms) until "0" (timeout 5 s)`,
  ]);
  assert.equal(await l.dom0.read(`${h}/numa/topo_change`), "0", "nothing written");
  assert.deepEqual(await l.dom0.getPerms(`${h}/numa/topo_change`), [{ id: 0, access: "n" }, { id: DOM, access: "r" }]);
});

Deno.test("virtflex: without the chmod the guest cannot reset the flag; timeout names the last values", async () => {
  await using l = await lab();
  await using guest = await BalloonDriverDouble.start({ socketPath: `${l.f.dir}/dom${DOM}.sock`, applyDelayMs: 5 });
  const p = virtflexPaths(DOM);
  await l.dom0.write(p.topoChange, "2"); // the failure mode: no chmod b
  const spec = { domid: DOM, action: "shrink" as const, node: 1, vcpuMethod: "availability" as const };
  await assert.rejects(
    waitForCompletion(l.dom0, spec, { timeoutMs: 300, pollMs: 20 }),
    (e) => e instanceof TimeoutError && e.message.includes('topo_change="2"') && e.message.includes('="4194304"'),
  );
  assert.equal(guest.applied[0]?.reset, false, "the double gave up after 3 attempts");
});

Deno.test("virtflex: older memory/… subtree is detected and named", async () => {
  await using l = await lab();
  await l.dom0.write("/local/domain/4/name", "old-guest");
  await l.dom0.write("/local/domain/4/memory/topo_change", "0");
  await l.dom0.write("/local/domain/4/memory/node/0/target", "4194304");
  const out = await runPlaybook(topoChange, { ...base(l.f.socket), domain: "old-guest", action: "shrink", node: 0 }, {
    store: l.store,
  });
  assert.equal(out.status, "failed");
  assert.match(String((out.error as Error).message), /older .*memory\/topo_change.*released Virtflex kernel ignores/);
});

Deno.test("virtflex: bad or missing inputs without a TTY name the flag", async () => {
  await using l = await lab();
  const fail = async (params: Record<string, unknown>, field: string) => {
    let err: unknown;
    try {
      const out = await runPlaybook(topoChange, { xenstore: l.f.socket, ...params }, { store: l.store });
      err = out.error;
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof InputError && err.field === field, `${JSON.stringify(params)} → ${err}`);
    return err as InputError;
  };
  const e = await fail({ action: "shrink", node: 1 }, "--domain");
  assert.match(e.message, /ubu-pv0 \(3\)/, "lists running domains");
  await fail({ domain: "nope", action: "shrink", node: 1 }, "--domain");
  await fail({ domain: "ubu-pv0", node: 1 }, "--action");
  await fail({ domain: "ubu-pv0", action: "shrink" }, "--node");
  await fail({ domain: "ubu-pv0", action: "shrink", node: 7 }, "--node");
  await fail({ domain: "ubu-pv0", action: "shrink", node: 1, vcpuMethod: "vcpu-set" }, "--vcpu-method");
  await fail({ domain: "ubu-pv0", action: "grow", node: 1 }, "action");
});

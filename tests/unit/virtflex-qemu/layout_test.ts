/** virtflex/qemu-topo: guest layout and argument derivation, bad parameters, vCPU slot choice. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { buildQemuArgv, parseGuestOptions, type QmpHotpluggableCpu } from "../../../lib/lab/guests_mod.ts";
import {
  cpuDeviceType,
  deriveLayout,
  expectedSlotProps,
  pickFreeSlot,
  QemuTopoParamsSchema,
} from "../../../lib/virtflex/mod.ts";

const params = (p: Record<string, unknown> = {}) => QemuTopoParamsSchema.parse(p);

function inputError(fn: () => unknown, field: string, expected: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.equal(e.field, field);
    assert.match(e.message, expected);
    return true;
  });
}

Deno.test("qemu-topo layout: defaults give 2 nodes, one boot vCPU and one free slot each, a DIMM slot", () => {
  const l = deriveLayout(params());
  assert.equal(l.bootCpus, 2);
  assert.equal(l.maxCpus, 4);
  assert.deepEqual(l.slots, [
    { index: 0, node: 0, boot: true },
    { index: 1, node: 1, boot: true },
    { index: 2, node: 0, boot: false },
    { index: 3, node: 1, boot: false },
  ]);
  assert.deepEqual(l.guest.numa, [{ cpus: [0, 2], memoryMiB: 256 }, { cpus: [1, 3], memoryMiB: 256 }]);
  assert.deepEqual(l.guest.memoryHotplug, { slots: 1, maxMemoryMiB: 640 });
  assert.ok(l.guest.kernelArgs?.includes("memhp_default_state=online_movable"));
  assert.ok(l.guest.kernelArgs?.includes("possible_cpus=9"), "physical IPI addressing (QEMU 7.2 TCG hot-add)");
  assert.equal(l.node, 1);
  assert.equal(l.vcpus, 1);
  assert.equal(l.sizeMb, 128);
});

Deno.test("qemu-topo layout: the guests library accepts it and QEMU gets -smp, -m slots/maxmem and -numa", () => {
  const l = deriveLayout(params({ nodes: 3, nodeVcpus: 2, cpuSlots: 2, node: 2, vcpus: 2, sizeMb: 256 }));
  const o = parseGuestOptions(l.guest);
  const argv = buildQemuArgv(o, {
    kernel: "/k",
    initrd: "/i",
    qmpSocket: "/q",
    sshPort: 2222,
    forwardPorts: [],
    accel: "tcg",
  }).join(" ");
  assert.match(argv, /-smp cpus=6,maxcpus=12/);
  assert.match(argv, /-m size=768M,slots=1,maxmem=1024M/);
  // Boot vCPUs 0-5 two per node, then two free slots per node (6-7 node 0, 8-9 node 1, 10-11 node 2).
  assert.match(argv, /-numa node,nodeid=0,cpus=0-1,cpus=6-7,memdev=numa-mem0/);
  assert.match(argv, /-numa node,nodeid=2,cpus=4-5,cpus=10-11,memdev=numa-mem2/);
  assert.match(argv, /memhp_default_state=online_movable possible_cpus=12/);
});

Deno.test("qemu-topo layout: bad parameters name the flag and the expectation", () => {
  inputError(() => deriveLayout(params({ node: 2 })), "--node", /a guest NUMA node 0\.\.1 \(the guest has --nodes 2\)/);
  inputError(() => deriveLayout(params({ vcpus: 2 })), "--vcpus", /at most --cpu-slots \(1\)/);
  inputError(() => deriveLayout(params({ vcpus: 1, cpuSlots: 0 })), "--vcpus", /at most --cpu-slots \(0\)/);
  inputError(() => deriveLayout(params({ sizeMb: 100 })), "--size-mb", /multiple of 128 MB/);
  inputError(() => deriveLayout(params({ vcpus: 0, sizeMb: 0 })), "--vcpus", /nothing to change/);
  inputError(
    () => deriveLayout(params({ nodes: 8, nodeVcpus: 8, cpuSlots: 1 })),
    "--cpu-slots",
    /at most 64 vCPU slots .* is 72/,
  );
  // Types and ranges are the schema's: the CLI reports them with the field name.
  assert.equal(QemuTopoParamsSchema.safeParse({ node: -1 }).success, false);
  assert.equal(QemuTopoParamsSchema.safeParse({ action: "grow" }).success, false);
  assert.equal(QemuTopoParamsSchema.safeParse({ nodeMemMb: 64 }).success, false);
  // Memory-only and CPU-only changes are fine.
  assert.equal(deriveLayout(params({ vcpus: 0 })).vcpus, 0);
  assert.equal(deriveLayout(params({ sizeMb: 0 })).guest.memoryHotplug?.maxMemoryMiB, 640);
});

// What QEMU 7.2 answered for the default layout (2 nodes, cpus=2, maxcpus=4) on this machine.
const QUERIED: QmpHotpluggableCpu[] = [
  { props: { "core-id": 3, "thread-id": 0, "node-id": 1, "socket-id": 0 }, "vcpus-count": 1, type: "max-x86_64-cpu" },
  { props: { "core-id": 2, "thread-id": 0, "node-id": 0, "socket-id": 0 }, "vcpus-count": 1, type: "max-x86_64-cpu" },
  {
    props: { "core-id": 1, "thread-id": 0, "node-id": 1, "socket-id": 0 },
    "vcpus-count": 1,
    "qom-path": "/machine/unattached/device[2]",
    type: "max-x86_64-cpu",
  },
  {
    props: { "core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 0 },
    "vcpus-count": 1,
    "qom-path": "/machine/unattached/device[0]",
    type: "max-x86_64-cpu",
  },
];

Deno.test("qemu-topo slots: the dry-run plan's slot properties are what QEMU 7.2 reports", () => {
  const l = deriveLayout(params());
  for (const s of l.slots) {
    const q = QUERIED.find((x) => x.props["core-id"] === s.index);
    assert.ok(q, `slot ${s.index}`);
    assert.deepEqual(expectedSlotProps(s), q.props);
    assert.equal(!!q["qom-path"], s.boot);
  }
  assert.equal(cpuDeviceType("tcg"), QUERIED[0].type);
  assert.equal(cpuDeviceType("kvm"), "host-x86_64-cpu");
});

Deno.test("qemu-topo slots: a free slot of the chosen node, never a plugged one or another node's", () => {
  assert.equal(pickFreeSlot(QUERIED, 1).props["core-id"], 3);
  assert.equal(pickFreeSlot(QUERIED, 0).props["core-id"], 2);
  assert.throws(
    () => pickFreeSlot(QUERIED, 1, new Set([JSON.stringify(QUERIED[0].props)])),
    /node 1 has no free vCPU slot left .*free ones on nodes: 0/,
  );
  assert.throws(() => pickFreeSlot(QUERIED, 5), /node 5 has no free vCPU slot/);
});

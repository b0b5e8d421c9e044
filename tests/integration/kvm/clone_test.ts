import assert from "node:assert/strict";
import { cloneMicroVm, cloneSource, MicroVm, stateRegs } from "../../../lib/kvm/mod.ts";
import { HEAP_BASE } from "../../../lib/kvm/vmm/layout.ts";
import { skipIf } from "../../_helpers.ts";
import { NO_MICROVM, openFds } from "./_kvm.ts";

const ignore = skipIf(NO_MICROVM);
const PAGES = 16;
const values = (m: MicroVm) => m.reports.map((r) => r.value >>> 0);
const heapWord = (m: MicroVm, word: number) => new Uint32Array(m.memory.bytes().buffer, HEAP_BASE, PAGES * 1024)[word];

Deno.test(
  { name: "clone: fork returns 0 in the parent and 1 in each child, which learns its index", ignore },
  async () => {
    const before = openFds();
    {
      using parent = MicroVm.boot({ guest: "fork" });
      assert.equal((await parent.run()).reason, "fork");
      const kids = cloneMicroVm(parent, 3);
      try {
        for (const k of kids) assert.equal((await k.run()).reason, "halt");
        assert.equal((await parent.run()).reason, "halt");
        const sum = values(parent)[2];
        assert.deepEqual(values(parent), [0, 0, sum, 0xdead0000]);
        kids.forEach((k, i) => assert.deepEqual(values(k), [1, i + 1, sum, 0xc0de0000 + i + 1]));
        assert.deepEqual(kids.map((k) => k.name), ["fork-child-1", "fork-child-2", "fork-child-3"]);
        assert.equal(kids[1].console, "child 2\n", "a child's console starts at the clone");
        assert.equal(parent.console, "fork guest: before fork\nparent\n");
      } finally {
        kids.forEach((k) => k.close());
      }
    }
    assert.equal(openFds(), before, "parent, children and snapshots released every fd");
  },
);

Deno.test({ name: "clone: a child's writes are invisible to the parent and to its siblings", ignore }, async () => {
  using parent = MicroVm.boot({ guest: "fork" });
  await parent.run();
  const [a, b] = cloneMicroVm(parent, 2);
  using _a = a;
  using _b = b;
  await a.run(); // child 1 writes word 0 and page 1
  assert.equal(heapWord(a, 0), 0xc0de0001);
  assert.equal(heapWord(a, 1024), 0xc0de0001);
  assert.equal(heapWord(b, 0), 3, "sibling still sees the pre-fork pattern");
  assert.equal(heapWord(b, 1024), 1024 * 7 + 3);
  assert.equal(heapWord(parent, 0), 3, "parent still sees the pre-fork pattern");
  await parent.run();
  await b.run();
  assert.equal(heapWord(parent, 0), 0xdead0000);
  assert.equal(heapWord(a, 0), 0xc0de0001, "parent's later write is invisible to the child");
  assert.equal(heapWord(b, 0), 0xc0de0002);
  assert.equal(heapWord(b, 1024), 1024 * 7 + 3, "b never saw a's page-1 write");
  assert.equal(heapWord(b, 2048), 0xc0de0002);
});

Deno.test(
  { name: "clone: a child equals the parent except for fork's return value and its index", ignore },
  async () => {
    using parent = MicroVm.boot({ guest: "fork" });
    await parent.run();
    const src = cloneSource(parent);
    using child = cloneMicroVm(parent, 1)[0];
    const p = parent.vcpu.saveState(), c = child.vcpu.saveState();
    assert.equal(stateRegs(p).rax, 0n);
    assert.equal(stateRegs(c).rax, 1n);
    assert.deepEqual({ ...stateRegs(c), rax: 0n }, stateRegs(p));
    assert.deepEqual(child.vcpu.getSregs(), parent.vcpu.getSregs());
    assert.deepEqual(child.vcpu.getFpu(), parent.vcpu.getFpu());
    const msrs = [0x174, 0x175, 0x176, 0xc0000081, 0xc0000082, 0x277];
    assert.deepEqual(child.vcpu.getMsrs(msrs), parent.vcpu.getMsrs(msrs));
    assert.ok(Buffer.from(child.memory.bytes()).equals(Buffer.from(parent.memory.bytes())), "memory identical");
    assert.equal(src.atFork, true);
    assert.deepEqual(child.params, parent.params);
    assert.equal(child.index, 1);
    assert.equal(parent.index, 0);
  },
);

Deno.test({ name: "clone: the parent keeps running and can be cloned again; grandchildren work", ignore }, async () => {
  const before = openFds();
  {
    using parent = MicroVm.boot({ guest: "touch", params: [64, 100] });
    await parent.run({ stopOnReport: true }); // stopped after its report, not at a fork
    using c1 = cloneMicroVm(parent, 1)[0];
    // the parent continues: it overwrites its heap with a new seed through a second run of the loop body
    parent.params = [64, 500];
    await parent.run();
    using c2 = cloneMicroVm(parent, 1)[0]; // new snapshot (parent ran since): private pages are copied
    using g = cloneMicroVm(c1, 1)[0]; // a clone of a clone
    assert.equal(c1.index, 1);
    assert.equal(c2.index, 2);
    assert.equal(g.name, "touch-child-1-child-1");
    for (const m of [c1, c2, g]) assert.equal((await m.run()).reason, "halt");
    assert.equal(heapWord(c1, 0), 100);
    assert.equal(heapWord(g, 0), 100);
    assert.equal(heapWord(c2, 0), 100, "the parent's pages as they were when c2 was cloned");
  }
  assert.equal(openFds(), before, "layered snapshots released every memfd");
});

Deno.test({ name: "clone: only pages a child writes become its own memory", ignore }, async () => {
  using parent = MicroVm.boot({ guest: "app", memoryMiB: 16, params: [8192, 1024], logDirty: true });
  assert.equal((await parent.run()).reason, "fork");
  parent.vm.dirtyPages(0);
  using child = cloneMicroVm(parent, 1)[0];
  await child.run();
  assert.deepEqual(values(child), [1, 2]);
  const heapDirty = child.vm.dirtyPages(0).filter((p) => p * 4096 >= HEAP_BASE).length;
  assert.equal(heapDirty, 256, "the child wrote 1 MiB = 256 pages of heap");
});

Deno.test({ name: "clone: device state (the port interface's ARG register) is inherited", ignore }, async () => {
  // mov eax,5; out 0x504 (ARG),eax; in eax,0x50c (FORK); in eax,0x508 (PARAM[ARG]); out 0x500 (REPORT),eax; hlt
  const image = new Uint8Array([
    0xb8,
    5,
    0,
    0,
    0,
    0x66,
    0xba,
    0x04,
    0x05,
    0xef,
    0x66,
    0xba,
    0x0c,
    0x05,
    0xed, //
    0x66,
    0xba,
    0x08,
    0x05,
    0xed,
    0x66,
    0xba,
    0x00,
    0x05,
    0xef,
    0xf4,
  ]);
  using parent = MicroVm.boot({ guest: { image, mode: "long" }, params: [0, 0, 0, 0, 0, 60] });
  assert.equal((await parent.run()).reason, "fork");
  using child = cloneMicroVm(parent, 1)[0];
  await child.run();
  await parent.run();
  assert.deepEqual(values(child), [60]);
  assert.deepEqual(values(parent), [60]);
});

Deno.test({ name: "clone: children outlive their parent", ignore }, async () => {
  const parent = MicroVm.boot({ guest: "fork" });
  await parent.run();
  const kids = cloneMicroVm(parent, 2);
  parent.close();
  for (const k of kids) {
    using _k = k;
    assert.equal((await k.run()).reason, "halt");
    assert.equal(values(k)[3], 0xc0de0000 + k.index);
    assert.equal(heapWord(k, 5), 5 * 7 + 3, "pre-fork memory is still there");
  }
});

Deno.test(
  { name: "clone: 300 forks of a running parent via layered snapshots (with compaction)", ignore },
  async () => {
    const before = openFds();
    {
      const n = 300;
      using parent = MicroVm.boot({ guest: "forkloop", params: [n] });
      let first: MicroVm | undefined;
      let maxExtents = 0;
      for (let i = 0; i < n; i++) {
        assert.equal((await parent.run({ sync: true })).reason, "fork");
        const [child] = cloneMicroVm(parent, 1);
        maxExtents = Math.max(maxExtents, cloneSource(parent).snapshot.extentCount);
        assert.equal((await child.run({ sync: true })).reason, "halt");
        assert.deepEqual(
          values(child),
          [i, ((i + 1) * (i + 2)) / 2],
          `child ${i + 1} sees every write before its fork`,
        );
        if (i === 0) first = child;
        else child.close();
      }
      assert.equal((await parent.run({ sync: true })).reason, "halt");
      assert.deepEqual(values(parent), [n]);
      assert.ok(maxExtents > 100 && maxExtents <= 260, `layers grew then were compacted (max ${maxExtents} extents)`);
      const firstWords = new Uint32Array(first!.memory.bytes().buffer, HEAP_BASE, 4 * 1024);
      assert.deepEqual([firstWords[0], firstWords[2048]], [1, 0], "the first child never saw later parent writes");
      first!.close();
    }
    assert.equal(openFds(), before, "every layer's memfd was released");
  },
);

import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { GuestMemory, MicroVm, PORT } from "../../../lib/kvm/mod.ts";
import { HEAP_BASE } from "../../../lib/kvm/vmm/layout.ts";
import { skipIf } from "../../_helpers.ts";
import { NO_KVM, NO_MICROVM } from "./_kvm.ts";

Deno.test({ name: "snapshot: writes after it stay private to each mapping", ignore: skipIf(NO_KVM) }, () => {
  using parent = GuestMemory.create(4 * 4096);
  assert.throws(
    () => parent.write(4 * 4096 - 2, new Uint8Array(4)),
    (e) => e instanceof InputError && e.field === "offset",
  );
  parent.bytes().fill(7);
  const snap = parent.snapshot();
  using a = GuestMemory.fromSnapshot(snap);
  using b = GuestMemory.fromSnapshot(snap);
  a.bytes()[0] = 1;
  b.bytes()[4096] = 2;
  parent.bytes()[8192] = 3;
  assert.deepEqual([parent.bytes()[0], parent.bytes()[4096], parent.bytes()[8192]], [7, 7, 3]);
  assert.deepEqual([a.bytes()[0], a.bytes()[4096], a.bytes()[8192]], [1, 7, 7]);
  assert.deepEqual([b.bytes()[0], b.bytes()[4096], b.bytes()[8192]], [7, 2, 7]);
  // a second snapshot of the (now private) parent copies its current contents; older clones keep theirs
  const snap2 = parent.snapshot();
  using c = GuestMemory.fromSnapshot(snap2);
  assert.equal(c.bytes()[8192], 3);
  assert.equal(a.bytes()[8192], 7);
  assert.ok(snap.closed, "the first snapshot was released; its mappings live on");
  assert.equal(snap2.extentCount, 3, "the second snapshot layers the parent's one changed page over the first");
  assert.deepEqual([c.bytes()[0], c.bytes()[4096], c.bytes()[12288]], [7, 7, 7], "unchanged pages from the first");
  c.bytes()[8192] = 9;
  assert.equal(parent.bytes()[8192], 3, "writes to a layered clone stay private");
});

Deno.test({ name: "dirty log lists exactly the pages the guest wrote", ignore: skipIf(NO_MICROVM) }, async () => {
  using m = MicroVm.boot({ guest: "touch", params: [40, 5], logDirty: true });
  m.vm.dirtyPages(0); // reset: loading the image and page tables from the host is not logged, but be sure
  await m.run();
  assert.deepEqual(m.reports.map((r) => r.value), [10]);
  const heapPages = m.vm.dirtyPages(0).filter((p) => p * 4096 >= HEAP_BASE).map((p) => p - HEAP_BASE / 4096);
  assert.deepEqual(heapPages, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(m.vm.dirtyPages(0), [], "fetching resets the log");
  const w = new Uint32Array(m.memory.bytes().buffer, HEAP_BASE, 10 * 1024);
  assert.deepEqual([w[0], w[1024], w[9 * 1024]], [5, 6, 14]);
});

Deno.test({ name: "ioeventfd: tick writes signal an eventfd without exits", ignore: skipIf(NO_MICROVM) }, async () => {
  using m = MicroVm.boot({ guest: "loop", params: [500] });
  using ev = m.vm.ioeventfd({ port: PORT.TICK, len: 4 });
  await m.run();
  assert.equal(m.ticks, 0, "no tick reached userspace");
  assert.ok(m.exits < 50, `few exits (${m.exits})`);
  assert.equal(ev.take(), 500);
  assert.equal(ev.take(), 0);
});

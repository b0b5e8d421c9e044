import assert from "node:assert/strict";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { FORK_REFUSED, MicroVm } from "../../../lib/kvm/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { NO_MICROVM, openFds } from "./_kvm.ts";

const ignore = skipIf(NO_MICROVM);

Deno.test(
  { name: "micro-VM: guests print on COM1 and report from real, protected and long mode", ignore },
  async () => {
    const before = openFds();
    for (
      const [guest, text, value] of [
        ["hello16", "hello from real mode\n", 16],
        ["hello32", "hello from protected mode\n", 32],
        ["hello64", "hello from long mode\n", 64],
      ] as const
    ) {
      using m = MicroVm.boot({ guest });
      assert.equal((await m.run()).reason, "halt");
      assert.equal(m.console, text);
      assert.deepEqual(m.reports.map((r) => r.value), [value]);
    }
    assert.equal(openFds(), before, "no fd left behind");
  },
);

Deno.test({ name: "micro-VM: touch guest reads its params and writes N MiB", ignore }, async () => {
  using m = MicroVm.boot({ guest: "touch", memoryMiB: 8, params: [4096, 1000] });
  const seen: number[] = [];
  m.onReport = (r) => seen.push(r.value);
  const r = await m.run({ sync: true });
  assert.equal(r.reason, "halt");
  assert.deepEqual(seen, [1024]);
  const w = new Uint32Array(m.memory.bytes().buffer, 0x100000, 1024 * 1024);
  assert.equal(w[1023 * 1024], 1000 + 1023);
  assert.equal(w[1023 * 1024 + 1], 0);
});

Deno.test({ name: "micro-VM: stopOnReport and maxExits stop early; run resumes", ignore }, async () => {
  using m = MicroVm.boot({ guest: "loop", params: [10] });
  assert.deepEqual(await m.run({ maxExits: 3 }), { reason: "max-exits", exits: 3 });
  assert.equal((await m.run({ stopOnReport: true })).reason, "report");
  assert.equal(m.ticks, 10);
  assert.equal((await m.run()).reason, "halt");
});

Deno.test({ name: "micro-VM: bad run options name the field", ignore }, async () => {
  using m = MicroVm.boot({ guest: "hello64" });
  await assert.rejects(() => m.run({ timeoutMs: 0 }), (e) => e instanceof InputError && e.field === "timeoutMs");
  await assert.rejects(() => m.run({ maxExits: 2.5 }), (e) => e instanceof InputError && e.field === "maxExits");
  m.close();
  await assert.rejects(() => m.run(), /closed/);
});

Deno.test({ name: "micro-VM: interrupt() stops a nonblocking run of a spinning guest", ignore }, async () => {
  using m = MicroVm.boot({ guest: { image: new Uint8Array([0xeb, 0xfe]), mode: "long" } });
  const p = m.run();
  setTimeout(() => m.interrupt(), 30);
  assert.equal((await p).reason, "interrupted");
});

Deno.test({ name: "micro-VM: fork policies refuse and parent answer without cloning", ignore }, async () => {
  using r = MicroVm.boot({ guest: "fork", fork: "refuse" });
  await r.run();
  assert.equal(r.reports[0].value, FORK_REFUSED);
  using p = MicroVm.boot({ guest: "fork", fork: "parent" });
  await p.run();
  assert.deepEqual(p.reports.map((x) => x.value).slice(0, 2), [0, 0]);
  assert.match(p.console, /parent/);
});

Deno.test({ name: "micro-VM: an unhandled port is a guest error naming port and rip", ignore }, async () => {
  using m = MicroVm.boot({ guest: { image: new Uint8Array([0xe6, 0x99, 0xf4]), mode: "long" } });
  await assert.rejects(
    () => m.run(),
    (e) => e instanceof HyperlabError && /port out 0x99 at rip 0x10002/.test(e.message),
  );
});

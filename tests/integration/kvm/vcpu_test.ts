import assert from "node:assert/strict";
import { ErrnoError } from "../../../lib/ffi/errno.ts";
import { TimeoutError } from "../../../lib/core/errors.ts";
import { MicroVm } from "../../../lib/kvm/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { NO_KVM } from "./_kvm.ts";

const ignore = skipIf(NO_KVM);
const code = (mode: "real" | "protected" | "long", ...bytes: number[]) =>
  MicroVm.boot({ guest: { image: new Uint8Array(bytes), mode } });

Deno.test({ name: "vCPU registers, sregs, FPU and MSRs round-trip through KVM", ignore }, () => {
  using m = code("long", 0xf4);
  const v = m.vcpu;
  v.setRegs({ rbx: 0x1122334455667788n, r15: 42n });
  const r = v.getRegs();
  assert.equal(r.rbx, 0x1122334455667788n);
  assert.equal(r.r15, 42n);
  assert.equal(r.rip, 0x10000n);
  const s = v.getSregs();
  assert.equal(s.efer & 0x500n, 0x500n, "long mode active");
  assert.equal(s.cs.l, 1);
  s.cr8 = 3n;
  v.setSregs(s);
  assert.equal(v.getSregs().cr8, 3n);
  const f = v.getFpu();
  f.fcw = 0x27f; // (this host's KVM_GET_FPU reports MXCSR as 0 even at reset, so MXCSR is not checked)
  f.xmm[3] = 0x5a;
  v.setFpu(f);
  assert.equal(v.getFpu().fcw, 0x27f);
  assert.equal(v.getFpu().xmm[3], 0x5a);
  v.setMsrs(new Map([[0x174, 0x10n], [0xc0000082, 0xffff800000001000n]]));
  assert.deepEqual([...v.getMsrs([0x174, 0xc0000082]).values()], [0x10n, 0xffff800000001000n]);
  assert.throws(() => v.getMsrs([0xdeadbeef]), (e) => e instanceof ErrnoError && /0xdeadbeef/.test(e.message));
});

Deno.test({ name: "exits: port out and in (answered), hlt", ignore }, () => {
  // mov al,0x42; out 0x10,al; in al,0x20; out 0x21,al; hlt
  using m = code("real", 0xb0, 0x42, 0xe6, 0x10, 0xe4, 0x20, 0xe6, 0x21, 0xf4);
  assert.deepEqual(m.vcpu.runSync(), { kind: "io", direction: "out", port: 0x10, size: 1, count: 1, data: 0x42 });
  assert.deepEqual(m.vcpu.runSync(), { kind: "io", direction: "in", port: 0x20, size: 1, count: 1, data: 0 });
  m.vcpu.completeRead(0x7f);
  assert.deepEqual(m.vcpu.runSync(), { kind: "io", direction: "out", port: 0x21, size: 1, count: 1, data: 0x7f });
  assert.deepEqual(m.vcpu.runSync(), { kind: "hlt" });
});

Deno.test({ name: "exits: MMIO write and read outside guest RAM", ignore }, async () => {
  // mov dword [0x400000],0x12345678; mov eax,[0x400000]; out 0x22,eax; hlt
  using m = code("protected", 0xc7, 0x05, 0, 0, 0x40, 0, 0x78, 0x56, 0x34, 0x12, 0xa1, 0, 0, 0x40, 0, 0xe7, 0x22, 0xf4);
  assert.deepEqual(await m.vcpu.run(), { kind: "mmio", isWrite: true, address: 0x400000n, len: 4, data: 0x12345678n });
  const rd = await m.vcpu.run();
  assert.deepEqual(rd, { kind: "mmio", isWrite: false, address: 0x400000n, len: 4, data: 0n });
  m.vcpu.completeRead(0xcafef00d);
  const out = await m.vcpu.run();
  assert.equal(out.kind === "io" && out.data, 0xcafef00d);
});

Deno.test({ name: "exits: triple fault is a shutdown exit", ignore }, () => {
  using m = code("long", 0x0f, 0x0b); // ud2 with no usable IDT: #UD, #DF, triple fault
  const s = m.vcpu.getSregs();
  s.idt = { base: 0n, limit: 0 };
  m.vcpu.setSregs(s);
  assert.deepEqual(m.vcpu.runSync(), { kind: "shutdown" });
});

Deno.test(
  { name: "a guest spinning without exits is kicked out of a nonblocking KVM_RUN on timeout", ignore },
  async () => {
    using m = code("long", 0xeb, 0xfe); // jmp $
    const t0 = performance.now();
    await assert.rejects(() => m.run({ timeoutMs: 200 }), TimeoutError);
    assert.ok(performance.now() - t0 < 2000);
    // the vCPU is usable again afterwards
    m.vcpu.kick();
    assert.deepEqual(await m.vcpu.run(), { kind: "interrupted" });
  },
);

Deno.test({ name: "a sync run of a spinning guest is stopped by the watchdog timer", ignore }, async () => {
  using m = code("long", 0xeb, 0xfe); // jmp $
  const t0 = performance.now();
  await assert.rejects(() => m.run({ sync: true, timeoutMs: 150 }), TimeoutError);
  assert.ok(performance.now() - t0 < 2000);
  // disarmed afterwards: a short sync run of a halting guest is not interrupted
  using h = code("long", 0xf4);
  assert.equal((await h.run({ sync: true })).reason, "halt");
});

Deno.test({ name: "closing a vCPU while its nonblocking run is in flight is safe", ignore }, async () => {
  const m = code("long", 0xeb, 0xfe);
  const p = m.vcpu.run();
  await new Promise((r) => setTimeout(r, 50));
  m.close();
  assert.deepEqual(await p, { kind: "interrupted" });
});

import assert from "node:assert/strict";
import {
  decodeFpu,
  decodeRegs,
  decodeSregs,
  encodeFpu,
  encodeRegs,
  encodeSregs,
  FPU_SIZE,
  REG_NAMES,
  type Regs,
  REGS_SIZE,
  SREGS_SIZE,
} from "../../../lib/kvm/structs.ts";

Deno.test("kvm_regs encodes in kvm_regs order and round-trips", () => {
  const r = Object.fromEntries(REG_NAMES.map((n, i) => [n, BigInt(i + 1) * 0x1111_0000_0000n + 7n])) as Regs;
  const bytes = encodeRegs(r);
  assert.equal(bytes.length, REGS_SIZE);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getBigUint64(128, true), r.rip, "rip at offset 128 (pinned in ffi/kvm.c)");
  assert.equal(v.getBigUint64(136, true), r.rflags);
  assert.deepEqual(decodeRegs(bytes), r);
});

Deno.test("kvm_sregs round-trips segments, tables and control registers", () => {
  const bytes = new Uint8Array(SREGS_SIZE);
  const s = decodeSregs(bytes);
  s.cs = { ...s.cs, base: 0x10000n, limit: 0xffff, selector: 0x1000, type: 11, present: 1, l: 1, g: 1 };
  s.gdt = { base: 0x1000n, limit: 23 };
  s.cr0 = 0x80000011n;
  s.efer = 0x500n;
  s.apicBase = 0xfee00900n;
  const again = decodeSregs(encodeSregs(s));
  assert.deepEqual(again, s);
  const v = new DataView(encodeSregs(s).buffer);
  assert.equal(v.getUint16(12, true), 0x1000, "cs.selector at 12");
  assert.equal(v.getBigUint64(264, true), 0x500n, "efer at 264");
});

Deno.test("kvm_fpu round-trips control words and registers", () => {
  const f = decodeFpu(new Uint8Array(FPU_SIZE));
  f.fcw = 0x37f;
  f.mxcsr = 0x1f80;
  f.xmm[17] = 0xab;
  assert.deepEqual(decodeFpu(encodeFpu(f)), f);
});

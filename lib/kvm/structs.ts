/**
 * Register structs of the KVM API as plain objects, marshalled with DataView at the offsets ffi/kvm.c pins with
 * _Static_assert (kvm_regs 144 bytes, kvm_sregs 312, kvm_segment 24, kvm_dtable 16, kvm_fpu 416).
 * @module
 */

/** General-purpose registers in kvm_regs order. */
export const REG_NAMES = [
  "rax",
  "rbx",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "rsp",
  "rbp",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
  "rip",
  "rflags",
] as const;

/** kvm_regs: 64-bit general registers, rip and rflags. */
export type Regs = Record<typeof REG_NAMES[number], bigint>;

/** Size of struct kvm_regs. */
export const REGS_SIZE = 144;
/** Size of struct kvm_sregs. */
export const SREGS_SIZE = 312;
/** Size of struct kvm_fpu. */
export const FPU_SIZE = 416;

/** kvm_segment: a segment register's hidden state. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  type: number;
  present: number;
  dpl: number;
  db: number;
  s: number;
  l: number;
  g: number;
  avl: number;
  unusable: number;
}

/** kvm_dtable: GDT or IDT register. */
export interface DescriptorTable {
  base: bigint;
  limit: number;
}

/** kvm_sregs: segment, descriptor-table and control registers. */
export interface Sregs {
  cs: Segment;
  ds: Segment;
  es: Segment;
  fs: Segment;
  gs: Segment;
  ss: Segment;
  tr: Segment;
  ldt: Segment;
  gdt: DescriptorTable;
  idt: DescriptorTable;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  cr8: bigint;
  efer: bigint;
  apicBase: bigint;
  /** Pending external interrupt bitmap (4 u64). */
  interruptBitmap: bigint[];
}

const SEGMENTS = ["cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"] as const;
const CRS = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apicBase"] as const;

/** Decodes kvm_regs. */
export function decodeRegs(buf: Uint8Array): Regs {
  const v = new DataView(buf.buffer, buf.byteOffset, REGS_SIZE);
  const r = {} as Regs;
  REG_NAMES.forEach((n, i) => r[n] = v.getBigUint64(i * 8, true));
  return r;
}

/** Encodes kvm_regs. */
export function encodeRegs(r: Regs, buf = new Uint8Array(REGS_SIZE)): Uint8Array<ArrayBuffer> {
  const v = new DataView(buf.buffer, buf.byteOffset, REGS_SIZE);
  REG_NAMES.forEach((n, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, r[n]), true));
  return buf as Uint8Array<ArrayBuffer>;
}

function readSegment(v: DataView, o: number): Segment {
  return {
    base: v.getBigUint64(o, true),
    limit: v.getUint32(o + 8, true),
    selector: v.getUint16(o + 12, true),
    type: v.getUint8(o + 14),
    present: v.getUint8(o + 15),
    dpl: v.getUint8(o + 16),
    db: v.getUint8(o + 17),
    s: v.getUint8(o + 18),
    l: v.getUint8(o + 19),
    g: v.getUint8(o + 20),
    avl: v.getUint8(o + 21),
    unusable: v.getUint8(o + 22),
  };
}

function writeSegment(v: DataView, o: number, s: Segment): void {
  v.setBigUint64(o, s.base, true);
  v.setUint32(o + 8, s.limit >>> 0, true);
  v.setUint16(o + 12, s.selector, true);
  [s.type, s.present, s.dpl, s.db, s.s, s.l, s.g, s.avl, s.unusable].forEach((b, i) => v.setUint8(o + 14 + i, b));
  v.setUint8(o + 23, 0);
}

/** Decodes kvm_sregs. */
export function decodeSregs(buf: Uint8Array): Sregs {
  const v = new DataView(buf.buffer, buf.byteOffset, SREGS_SIZE);
  const s = {} as Sregs;
  SEGMENTS.forEach((n, i) => s[n] = readSegment(v, i * 24));
  s.gdt = { base: v.getBigUint64(192, true), limit: v.getUint16(200, true) };
  s.idt = { base: v.getBigUint64(208, true), limit: v.getUint16(216, true) };
  CRS.forEach((n, i) => s[n] = v.getBigUint64(224 + i * 8, true));
  s.interruptBitmap = [0, 1, 2, 3].map((i) => v.getBigUint64(280 + i * 8, true));
  return s;
}

/** Encodes kvm_sregs. */
export function encodeSregs(s: Sregs, buf = new Uint8Array(SREGS_SIZE)): Uint8Array<ArrayBuffer> {
  const v = new DataView(buf.buffer, buf.byteOffset, SREGS_SIZE);
  SEGMENTS.forEach((n, i) => writeSegment(v, i * 24, s[n]));
  v.setBigUint64(192, s.gdt.base, true);
  v.setUint16(200, s.gdt.limit, true);
  v.setBigUint64(208, s.idt.base, true);
  v.setUint16(216, s.idt.limit, true);
  CRS.forEach((n, i) => v.setBigUint64(224 + i * 8, s[n], true));
  s.interruptBitmap.forEach((w, i) => v.setBigUint64(280 + i * 8, w, true));
  return buf as Uint8Array<ArrayBuffer>;
}

/** kvm_fpu: x87/SSE state; registers stay raw bytes, control words are decoded. */
export interface Fpu {
  /** 8 x87 registers, 16 bytes each. */
  fpr: Uint8Array;
  fcw: number;
  fsw: number;
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  /** 16 XMM registers, 16 bytes each. */
  xmm: Uint8Array;
  mxcsr: number;
}

/** Decodes kvm_fpu. */
export function decodeFpu(buf: Uint8Array): Fpu {
  const v = new DataView(buf.buffer, buf.byteOffset, FPU_SIZE);
  return {
    fpr: buf.slice(0, 128),
    fcw: v.getUint16(128, true),
    fsw: v.getUint16(130, true),
    ftwx: v.getUint8(132),
    lastOpcode: v.getUint16(134, true),
    lastIp: v.getBigUint64(136, true),
    lastDp: v.getBigUint64(144, true),
    xmm: buf.slice(152, 408),
    mxcsr: v.getUint32(408, true),
  };
}

/** Encodes kvm_fpu. */
export function encodeFpu(f: Fpu, buf = new Uint8Array(FPU_SIZE)): Uint8Array<ArrayBuffer> {
  const v = new DataView(buf.buffer, buf.byteOffset, FPU_SIZE);
  buf.set(f.fpr.subarray(0, 128), 0);
  v.setUint16(128, f.fcw, true);
  v.setUint16(130, f.fsw, true);
  v.setUint8(132, f.ftwx);
  v.setUint16(134, f.lastOpcode, true);
  v.setBigUint64(136, f.lastIp, true);
  v.setBigUint64(144, f.lastDp, true);
  buf.set(f.xmm.subarray(0, 256), 152);
  v.setUint32(408, f.mxcsr, true);
  return buf as Uint8Array<ArrayBuffer>;
}

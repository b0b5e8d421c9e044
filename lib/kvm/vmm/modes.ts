/** CPU mode entry for micro-VMs: real mode, 32-bit protected mode, and 64-bit long mode with the VMM's page tables. */
import type { GuestMemory } from "../memory.ts";
import type { Segment, Sregs } from "../structs.ts";
import type { Vcpu } from "../vcpu.ts";
import { GDT_ADDR, LOAD_ADDR, PD_ADDR, PDPT_ADDR, PML4_ADDR, STACK_TOP } from "./layout.ts";

/** Entry modes a guest image can be built for. */
export type CpuMode = "real" | "protected" | "long";

const CR0_PE = 1n, CR0_ET = 0x10n, CR0_NE = 0x20n, CR0_PG = 0x80000000n;
const CR4_PAE = 0x20n;
const EFER_LME = 0x100n, EFER_LMA = 0x400n;

/** GDT entries: null, code, data (flat, 4 GiB). */
const GDT = {
  protected: [0n, 0x00cf9a000000ffffn, 0x00cf92000000ffffn],
  long: [0n, 0x00af9a000000ffffn, 0x00cf92000000ffffn],
};

function flat(selector: number, code: boolean, long: boolean): Segment {
  return {
    base: 0n,
    limit: 0xffffffff,
    selector,
    type: code ? 11 : 3,
    present: 1,
    dpl: 0,
    db: long && code ? 0 : 1,
    s: 1,
    l: long && code ? 1 : 0,
    g: 1,
    avl: 0,
    unusable: 0,
  };
}

function realSeg(paragraph: number, code: boolean): Segment {
  return {
    base: BigInt(paragraph << 4),
    limit: 0xffff,
    selector: paragraph,
    type: code ? 11 : 3,
    present: 1,
    dpl: 0,
    db: 0,
    s: 1,
    l: 0,
    g: 0,
    avl: 0,
    unusable: 0,
  };
}

function writeU64s(mem: GuestMemory, addr: number, values: bigint[]): void {
  const v = new DataView(mem.bytes().buffer, addr, values.length * 8);
  values.forEach((x, i) => v.setBigUint64(i * 8, x, true));
}

/** Writes the identity map of the first 4 GiB with 2 MiB pages: PML4 → PDPT → 4 page directories. */
export function writeIdentityPageTables(mem: GuestMemory): void {
  const P_RW = 0x3n, PS = 0x80n;
  writeU64s(mem, PML4_ADDR, [BigInt(PDPT_ADDR) | P_RW]);
  writeU64s(mem, PDPT_ADDR, [0, 1, 2, 3].map((i) => BigInt(PD_ADDR + i * 0x1000) | P_RW));
  writeU64s(mem, PD_ADDR, Array.from({ length: 2048 }, (_, i) => (BigInt(i) << 21n) | P_RW | PS));
}

/** Sets up `vcpu` (and, for long mode, page tables and GDT in `mem`) to start at the image's entry in `mode`. */
export function enterMode(vcpu: Vcpu, mem: GuestMemory, mode: CpuMode): void {
  const s: Sregs = vcpu.getSregs();
  if (mode === "real") {
    const para = LOAD_ADDR >> 4;
    s.cs = realSeg(para, true);
    s.ds =
      s.es =
      s.fs =
      s.gs =
      s.ss =
        realSeg(para, false);
    s.cr0 = CR0_ET;
    vcpu.setSregs(s);
    vcpu.setRegs({ rip: 0n, rsp: 0xfff0n, rflags: 2n });
    return;
  }
  const long = mode === "long";
  writeU64s(mem, GDT_ADDR, GDT[mode]);
  s.gdt = { base: BigInt(GDT_ADDR), limit: 3 * 8 - 1 };
  s.cs = flat(8, true, long);
  s.ds =
    s.es =
    s.fs =
    s.gs =
    s.ss =
      flat(16, false, long);
  s.cr0 = CR0_PE | CR0_ET | CR0_NE;
  if (long) {
    writeIdentityPageTables(mem);
    s.cr3 = BigInt(PML4_ADDR);
    s.cr4 = CR4_PAE;
    s.cr0 |= CR0_PG;
    s.efer = EFER_LME | EFER_LMA;
  }
  vcpu.setSregs(s);
  vcpu.setRegs({ rip: BigInt(LOAD_ADDR), rsp: BigInt(STACK_TOP), rflags: 2n });
}

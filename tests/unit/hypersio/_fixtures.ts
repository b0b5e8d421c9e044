/** Helpers for HyperSIO tests: hand-made log lines and traces. */
import { encodeIotlb, IOTLB_RECORD_BYTES, RecordWriter } from "../../../lib/hypersio/trace_format.ts";
import { levelMask, U64_MAX } from "../../../lib/hypersio/u64.ts";

/** Patched-format lines for one device (index i → SID (2+i)<<3) in domain `did`. */
export const line = {
  cc: (devfn: number, did: number, gen = "0 -> gen 1") =>
    `4242@1590000000.000001:vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x${devfn.toString(16)} ` +
    `high 0x${((did << 8) | 1).toString(16)} low 0xe00000001 gen ${gen}`,
  update: (sid: number, iova: number, did: number, level = 1) =>
    `4242@1590000000.000005:vtd_iotlb_page_update IOTLB page update sid 0x${sid.toString(16)} iova 0x${
      iova.toString(16)
    } slpte 0xe20aa1003 level 0x${level} domain 0x${did.toString(16)}`,
  hit: (sid: number, iova: number, did: number, pmask = "0xfffffffffffff000") =>
    `4242@1590000000.000009:vtd_iotlb_page_hit IOTLB page hit sid 0x${sid.toString(16)} iova 0x${
      iova.toString(16)
    } pmask ${pmask} slpte 0xe20a00003 domain 0x${did.toString(16)}`,
  walk: (did: number, iova: number, level: number, addr: number) =>
    `4242@1590000000.000002:vtd_slpte_fetch SLPTE fetch: high 0x${((did << 8) | 1).toString(16)} low 0xe00000001 ` +
    `iova 0x${iova.toString(16)} level 0x${level} addr 0x${addr.toString(16)} slpte 0xe00001003`,
};

/** One translation to write into a hand-made trace. */
export interface Tr {
  sid?: number;
  did?: number;
  iova: number;
  level?: number;
  nat?: number;
}

/** Writes an `iotlb_trace.bin` of the given translations (nat all-ones unless given). */
export function writeTrace(path: string, recs: Tr[]): void {
  using w = new RecordWriter(path, IOTLB_RECORD_BYTES);
  for (const r of recs) {
    const level = r.level ?? 1;
    encodeIotlb(...w.next(), {
      type: 1,
      sid: r.sid ?? 0x10,
      did: r.did ?? 0,
      iova: { hi: Math.floor(r.iova / 2 ** 32), lo: r.iova >>> 0 },
      mask: levelMask(level),
      lvl: { hi: 0, lo: level },
      slpte: { hi: 0, lo: 0x1003 },
      nat: r.nat === undefined ? U64_MAX : { hi: 0, lo: r.nat },
    });
  }
}

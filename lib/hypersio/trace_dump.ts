/**
 * Human-readable dump of a trace's three files (the `hypersio/trace-dump` playbook): counts, tenants, and the
 * first records of each file as text lines.
 * @module
 */
import { hex, toNumber } from "./u64.ts";
import { isNoNext, readCcFile, readIotlbFile, readSlptFile, type TraceFiles } from "./trace_format.ts";

/** What to print. */
export interface DumpOptions {
  /** Records printed per file (the rest are counted). Default 20. */
  limit?: number;
}

/** Counts of a dumped trace. */
export interface DumpSummary {
  translations: number;
  contexts: number;
  walks: number;
  /** Distinct DIDs in the translation file. */
  tenants: number;
  /** Translations per level. */
  levels: Record<string, number>;
  /** Records with a `nat` link. */
  linked: number;
  text: string;
}

/** Reads all three files (streamed) and returns the summary plus a text dump. */
export function dumpTrace(files: TraceFiles, opts: DumpOptions = {}): DumpSummary {
  const limit = opts.limit ?? 20;
  const lines: string[] = [`# ${files.iotlb}`, "idx\ttype\tsid\tdid\tiova\tmask\tlvl\tslpte\tnat"];
  const dids = new Set<number>();
  const levels: Record<string, number> = {};
  let n = 0, linked = 0;
  for (const r of readIotlbFile(files.iotlb)) {
    dids.add(r.did);
    const lvl = String(toNumber(r.lvl));
    levels[lvl] = (levels[lvl] ?? 0) + 1;
    if (!isNoNext(r.nat)) linked++;
    if (n < limit) {
      lines.push(
        [
          n,
          r.type,
          hex({ hi: 0, lo: r.sid }),
          r.did,
          hex(r.iova),
          hex(r.mask),
          lvl,
          hex(r.slpte),
          isNoNext(r.nat) ? "-" : toNumber(r.nat),
        ]
          .join("\t"),
      );
    }
    n++;
  }
  lines.push(`(${n} translations)`, "", `# ${files.cc}`, "idx\tsid\thi\tlo\tgen");
  let c = 0;
  for (const r of readCcFile(files.cc)) {
    if (c < limit) lines.push([c, hex({ hi: 0, lo: r.sid }), hex(r.hi), hex(r.lo), r.gen].join("\t"));
    c++;
  }
  lines.push(`(${c} context entries)`, "", `# ${files.slpt}`, "idx\tdid\tslpte_addr\tlvl\tslpte\tiova\ttable_base");
  let w = 0;
  for (const r of readSlptFile(files.slpt)) {
    if (w < limit) {
      lines.push([w, r.did, hex(r.slpteAddr), toNumber(r.lvl), hex(r.slpte), hex(r.iova), hex(r.tableBase)].join("\t"));
    }
    w++;
  }
  lines.push(`(${w} page-table entries)`);
  return { translations: n, contexts: c, walks: w, tenants: dids.size, levels, linked, text: lines.join("\n") + "\n" };
}

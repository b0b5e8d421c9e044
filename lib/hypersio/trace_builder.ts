/**
 * The Trace Constructor: turns IOMMU logs `<prefix>_<k>.txt` (k = 0, 1, …, D devices each) into the three binary
 * trace files of N tenants, as the reference does: device filtering per log, DID offset `logid·128` then dense
 * renumbering in order of first appearance, SID `+ logid·128`, `rr` / `rand` (glibc `rand()` after `srand(1)`) /
 * `orig` interleaving in bursts of `consec` records, and `nat` links. Logs are streamed line by line; translations
 * are kept packed (48 B each) because `rr`/`rand` need every tenant's stream before writing.
 * @module
 */
import { basename } from "node:path";
import { HyperlabError, InputError } from "../core/errors.ts";
import { GlibcRandom } from "./glibc_rand.ts";
import { forEachLine } from "./line_reader.ts";
import { type LogEvent, MalformedLine, parseLogLine } from "./log_line.ts";
import { pageKey } from "./page_key.ts";
import {
  CC_RECORD_BYTES,
  type CcRecord,
  encodeCc,
  encodeSlpt,
  IOTLB_RECORD_BYTES,
  RecordWriter,
  SLPT_RECORD_BYTES,
  type SlptRecord,
  type TraceFiles,
  traceFiles,
  TRANSLATE_TYPE,
} from "./trace_format.ts";
import { UnorderedMapOrder } from "./unordered_order.ts";

/** Interleaving of tenants in the trace. */
export type TraceOrder = "rr" | "rand" | "orig";

/** What to build. */
export interface BuildOptions {
  /** Log path prefix: logs are `<logPrefix>_<k>.txt`. */
  logPrefix: string;
  /** Number of tenants N. */
  tenants: number;
  /** Devices per log D; default from `_vm_<D>_` in the prefix's file name. */
  devicesPerLog?: number;
  /** Interleaving. Default `rr`. */
  order?: TraceOrder;
  /** Consecutive records per tenant turn (`3 × burst`). Default 3. */
  consec?: number;
  /** Output directory. */
  outDir: string;
  /** Test name used in the file names. */
  name: string;
  /**
   * Reference quirk (default true): SIDs only get `+ logid·128`, so more than 14 devices per log collide with the
   * next log's SIDs. False gives every (log, device) its own SID `(2 + n) << 3` in order of first appearance.
   */
  sidCollisions?: boolean;
  /** Cancels between chunks. */
  signal?: AbortSignal;
}

/** Per-log parsing summary. */
export interface LogSummary {
  file: string;
  lines: number;
  bytes: number;
  /** Lines that carried none of the four events. */
  ignored: number;
  /** Event lines dropped by device filtering. */
  filtered: number;
  translations: number;
  contexts: number;
  walks: number;
  /** Distinct tenants (renumbered DIDs) seen in this log. */
  tenants: number;
  /** Translation lines whose level came from the SLPTE PS bit (stock QEMU format). */
  derivedLevels: number;
}

/** What a build produced. */
export interface BuildResult {
  files: TraceFiles;
  /** Tenants with translations (N in the file names). */
  tenants: number;
  translations: number;
  contexts: number;
  walks: number;
  order: TraceOrder;
  consec: number;
  logs: LogSummary[];
  /** Fields stock QEMU logs could not provide (empty for patched logs). */
  missing: string[];
  quirks: { sidCollisions: boolean };
}

/** Logs per reference tenant-offset (MAX_DOMAINS_PER_LOG). */
const DOMAINS_PER_LOG = 128;

/** Packed, growable store of translation records in log order. */
class PackedTranslations {
  buf = new Uint8Array(IOTLB_RECORD_BYTES * 4096);
  words = new Uint32Array(this.buf.buffer);
  view = new DataView(this.buf.buffer);
  count = 0;

  add(sid: number, did: number, e: Extract<LogEvent, { kind: "translate" }>): number {
    if ((this.count + 1) * IOTLB_RECORD_BYTES > this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
      this.words = new Uint32Array(nb.buffer);
      this.view = new DataView(nb.buffer);
    }
    // Little-endian hosts only (x86, arm64): the record is laid out as 12 u32 words.
    const w = this.words, o = this.count * 12;
    w[o] = TRANSLATE_TYPE;
    w[o + 1] = (sid & 0xffff) | ((did & 0xffff) << 16);
    w[o + 2] = e.iova.lo;
    w[o + 3] = e.iova.hi;
    w[o + 4] = e.mask.lo;
    w[o + 5] = e.mask.hi;
    w[o + 6] = e.level;
    w[o + 7] = 0;
    w[o + 8] = e.slpte.lo;
    w[o + 9] = e.slpte.hi;
    return this.count++;
  }
}

/** A growable list of record indices. */
class IndexList {
  a = new Int32Array(64);
  n = 0;
  push(i: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = i;
  }
}

/** Devices per log from `_vm_<D>_` in the prefix's file name, or undefined. */
export function devicesFromPrefix(prefix: string): number | undefined {
  const m = /_vm_(\d+)(_|$)/.exec(basename(prefix));
  return m ? Number(m[1]) : undefined;
}

/** Builds the trace files; see the module doc. */
export async function buildTrace(opts: BuildOptions): Promise<BuildResult> {
  const order = opts.order ?? "rr";
  const consec = opts.consec ?? 3;
  const sidCollisions = opts.sidCollisions ?? true;
  if (!Number.isInteger(opts.tenants) || opts.tenants < 1) {
    throw new InputError("tenants", "an integer >= 1", opts.tenants);
  }
  if (!["rr", "rand", "orig"].includes(order)) throw new InputError("order", "one of rr, rand, orig", order);
  if (!Number.isInteger(consec) || consec < 1) throw new InputError("consec", "an integer >= 1", consec);
  const perLog = opts.devicesPerLog ?? devicesFromPrefix(opts.logPrefix);
  if (perLog === undefined) {
    throw new InputError(
      "devicesPerLog",
      "a number of devices per log, or `_vm_<D>_` in the log prefix",
      opts.logPrefix,
    );
  }
  if (!Number.isInteger(perLog) || perLog < 1) throw new InputError("devicesPerLog", "an integer >= 1", perLog);

  const store = new PackedTranslations();
  const perDid = new Map<number, IndexList>();
  const didOrder = new Map<number, number>();
  const sidOrder = new Map<number, number>();
  const ccMap = new UnorderedMapOrder<CcRecord>();
  const slptMap = new UnorderedMapOrder<SlptRecord>();
  const logs: LogSummary[] = [];
  let remaining = opts.tenants;
  let contexts = 0, walks = 0;

  for (let logId = 0; remaining > 0; logId++) {
    const file = `${opts.logPrefix}_${logId}.txt`;
    const devices = Math.min(remaining, perLog);
    const validSids = new Set<number>();
    for (let i = 0; i < devices; i++) validSids.add((2 + i) << 3);
    const validDids = new Set<number>();
    const seen = new Set<number>();
    const s: LogSummary = {
      file,
      lines: 0,
      bytes: 0,
      ignored: 0,
      filtered: 0,
      translations: 0,
      contexts: 0,
      walks: 0,
      tenants: 0,
      derivedLevels: 0,
    };
    const globalDid = (did: number) => {
      const unique = did + logId * DOMAINS_PER_LOG;
      let g = didOrder.get(unique);
      if (g === undefined) didOrder.set(unique, g = didOrder.size);
      seen.add(g);
      return g & 0xffff;
    };
    const adjustSid = (sid: number) => {
      if (sidCollisions) return (sid + logId * DOMAINS_PER_LOG) & 0xffff;
      const unique = logId * 65536 + sid;
      let n = sidOrder.get(unique);
      if (n === undefined) sidOrder.set(unique, n = sidOrder.size);
      return ((2 + n) << 3) & 0xffff;
    };
    let stat: { lines: number; bytes: number };
    try {
      stat = await forEachLine(file, (line, lineNo) => {
        let e: LogEvent | null;
        try {
          e = parseLogLine(line);
        } catch (err) {
          if (err instanceof MalformedLine) {
            throw new InputError(`${file}:${lineNo}`, err.reason, line);
          }
          throw err;
        }
        if (!e) {
          s.ignored++;
          return;
        }
        if (e.kind === "translate") {
          if (!validSids.has(e.sid)) return void s.filtered++;
          const did = globalDid(e.did);
          const idx = store.add(adjustSid(e.sid), did, e);
          let list = perDid.get(did);
          if (!list) perDid.set(did, list = new IndexList());
          list.push(idx);
          s.translations++;
          if (e.derived) s.derivedLevels++;
        } else if (e.kind === "context") {
          if (!validSids.has(e.sid)) return void s.filtered++;
          validDids.add(e.did);
          globalDid(e.did);
          const sid = adjustSid(e.sid);
          ccMap.set(sid, { sid, hi: e.high, lo: e.low, gen: e.gen });
          s.contexts++;
        } else {
          if (!validDids.has(e.did)) return void s.filtered++;
          globalDid(e.did);
          // slpte_addr = table base + 8 · ((iova >> (12 + 9·(lvl−1))) & 511)
          const shift = 12 + 9 * (e.level - 1);
          const idx = shift < 32
            ? ((e.iova.lo >>> shift) | (shift ? e.iova.hi << (32 - shift) : 0)) & 511
            : (e.iova.hi >>> (shift - 32)) & 511;
          const lo = e.addr.lo + idx * 8;
          const slpteAddr = { hi: (e.addr.hi + (lo >= 4294967296 ? 1 : 0)) >>> 0, lo: lo >>> 0 };
          const key = slpteAddr.hi * 4294967296 + slpteAddr.lo; // physical addresses are far below 2^53
          slptMap.set(key, {
            did: e.did,
            slpteAddr,
            lvl: { hi: 0, lo: e.level },
            slpte: e.slpte,
            iova: e.iova,
            tableBase: e.addr,
          });
          s.walks++;
        }
      }, { signal: opts.signal });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new InputError(`log ${logId}`, `a readable file ${file} (${remaining} tenants still needed)`);
      }
      throw e;
    }
    s.lines = stat.lines;
    s.bytes = stat.bytes;
    s.tenants = seen.size;
    contexts += s.contexts;
    walks += s.walks;
    logs.push(s);
    if (s.tenants === 0) {
      throw new InputError(
        file,
        `events from at least one tenant device 00:02.0..00:${(devices + 1).toString(16).padStart(2, "0")}.0 ` +
          `(none found among ${s.lines} lines; the reference loops forever on such a log)`,
      );
    }
    if (s.tenants > remaining) {
      throw new InputError(
        file,
        `at most ${remaining} tenants (domains) in this log`,
        s.tenants,
        { hint: "a device changed domain during the log; the reference's tenant count underflows on this" },
      );
    }
    remaining -= s.tenants;
  }

  const sequence = interleave(order, consec, store.count, perDid);
  if (sequence.length === 0) {
    throw new HyperlabError(
      "input",
      `no translations from the selected tenants in ${logs.map((l) => l.file).join(", ")}`,
    );
  }
  const tenants = perDid.size;
  const files = traceFiles(opts.outDir, opts.name, tenants, order, consec);
  await Deno.mkdir(opts.outDir, { recursive: true });
  writeIotlb(files.iotlb, store, sequence);
  {
    using w = new RecordWriter(files.cc, CC_RECORD_BYTES);
    for (const [, r] of ccMap.entries()) encodeCc(...w.next(), r);
  }
  {
    using w = new RecordWriter(files.slpt, SLPT_RECORD_BYTES);
    for (const [, r] of slptMap.entries()) encodeSlpt(...w.next(), r);
  }
  const derived = logs.some((l) => l.derivedLevels > 0);
  const missing = derived
    ? [
      "level/pmask of translations (derived from the SLPTE PS bit; 1 GiB pages read as 2 MiB)",
      "vtd_slpte_fetch walk reads (slpt_data.bin has only what patched QEMU logged)",
    ]
    : [];
  return {
    files,
    tenants,
    translations: sequence.length,
    contexts,
    walks,
    order,
    consec,
    logs,
    missing,
    quirks: { sidCollisions },
  };
}

/** Record indices (into the log-order store) in trace order. */
function interleave(order: TraceOrder, consec: number, total: number, perDid: Map<number, IndexList>): Int32Array {
  if (order === "orig") {
    const out = new Int32Array(total);
    for (let i = 0; i < total; i++) out[i] = i;
    return out;
  }
  const out = new IndexList();
  const dids = [...perDid.keys()].sort((a, b) => a - b);
  const pos = new Map<number, number>(dids.map((d) => [d, 0]));
  if (order === "rr") {
    // Round robin; stops after the first round in which any tenant runs out (ALL_DID_END_SAME_TIME).
    let over = false;
    while (dids.length && !over) {
      for (const did of dids) {
        const list = perDid.get(did)!;
        let p = pos.get(did)!;
        for (let k = 0; k < consec; k++) {
          if (p === list.n) {
            over = true;
            break;
          }
          out.push(list.a[p++]);
        }
        pos.set(did, p);
      }
    }
  } else {
    const rng = new GlibcRandom(1);
    while (dids.length) {
      const at = rng.rand() % dids.length;
      const did = dids[at];
      const list = perDid.get(did)!;
      let p = pos.get(did)!;
      for (let k = 0; k < consec; k++) {
        if (p === list.n) {
          dids.splice(at, 1);
          break;
        }
        out.push(list.a[p++]);
      }
      pos.set(did, p);
    }
  }
  return out.a.subarray(0, out.n);
}

/** Writes translations in `sequence` order with `nat` links. */
function writeIotlb(path: string, store: PackedTranslations, sequence: Int32Array): void {
  const src = store.words;
  const nat = new Float64Array(sequence.length).fill(-1);
  const last = new Map<number | string, number>();
  for (let i = 0; i < sequence.length; i++) {
    const o = sequence[i] * 12;
    const did = src[o + 1] >>> 16;
    const key = pageKey((src[o + 3] & src[o + 5]) >>> 0, (src[o + 2] & src[o + 4]) >>> 0, did);
    const prev = last.get(key);
    if (prev !== undefined) nat[prev] = i;
    last.set(key, i);
  }
  using w = new RecordWriter(path, IOTLB_RECORD_BYTES);
  for (let i = 0; i < sequence.length; i++) {
    const [dv, off] = w.next();
    const dst = w.words, d = off >> 2, o = sequence[i] * 12;
    for (let k = 0; k < 10; k++) dst[d + k] = src[o + k];
    if (nat[i] < 0) {
      dst[d + 10] = 0xffffffff;
      dst[d + 11] = 0xffffffff;
    } else {
      dv.setUint32(off + 40, nat[i] >>> 0, true);
      dv.setUint32(off + 44, Math.floor(nat[i] / 4294967296), true);
    }
  }
}

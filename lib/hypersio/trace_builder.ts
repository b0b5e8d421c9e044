/**
 * The Trace Constructor: turns IOMMU logs `<prefix>_<k>.txt` (k = 0, 1, …, D devices each) into the three binary
 * trace files of N tenants, as the reference does: device filtering per log, DID offset `logid·128` then dense
 * renumbering in order of first appearance, SID `+ logid·128`, `rr` / `rand` (glibc `rand()` after `srand(1)`) /
 * `orig` interleaving in bursts of `consec` records, and `nat` links. Logs are streamed (log_ingest.ts); translations
 * are kept packed (translation_store.ts) because `rr`/`rand` need every tenant's stream before writing.
 * @module
 */
import { basename } from "node:path";
import { HyperlabError, InputError } from "../core/errors.ts";
import { GlibcRandom } from "./glibc_rand.ts";
import { type LogSummary, TraceInputs } from "./log_ingest.ts";
import {
  CC_RECORD_BYTES,
  encodeCc,
  encodeSlpt,
  RecordWriter,
  SLPT_RECORD_BYTES,
  type TraceFiles,
  traceFiles,
} from "./trace_format.ts";
import { IndexList } from "./translation_store.ts";

export type { LogSummary } from "./log_ingest.ts";

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

  const inputs = new TraceInputs(sidCollisions);
  const logs: LogSummary[] = [];
  let remaining = opts.tenants;
  let contexts = 0, walks = 0;

  for (let logId = 0; remaining > 0; logId++) {
    const file = `${opts.logPrefix}_${logId}.txt`;
    const devices = Math.min(remaining, perLog);
    let s: LogSummary;
    try {
      s = await inputs.readLog(file, logId, devices, opts.signal);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new InputError(`log ${logId}`, `a readable file ${file} (${remaining} tenants still needed)`);
      }
      throw e;
    }
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

  const store = inputs.translations;
  const perDid = store.tenants();
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
  store.writeIotlb(files.iotlb, sequence);
  {
    using w = new RecordWriter(files.cc, CC_RECORD_BYTES, Math.max(1, Math.min(1 << 14, inputs.contexts.size)));
    for (const [, r] of inputs.contexts.entries()) encodeCc(...w.next(), r);
  }
  {
    using w = new RecordWriter(files.slpt, SLPT_RECORD_BYTES, Math.max(1, Math.min(1 << 14, inputs.walks.size)));
    for (const [, r] of inputs.walks.entries()) encodeSlpt(...w.next(), r);
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

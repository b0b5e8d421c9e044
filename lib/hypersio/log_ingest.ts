/**
 * Reading one IOMMU log into a trace build, as the reference's constructor does: device filtering (tenant devices
 * `00:02.0`… of this log; walks by the DIDs their context entries name), DID offset `logid·128` then dense
 * renumbering in order of first appearance, SID `+ logid·128`. Lines go through the byte parser; the few it leaves to
 * parseLogLine are decoded for it, and a malformed line stops the build naming file:line.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { decodeLine, forEachLineChunk } from "./line_reader.ts";
import { MalformedLine, parseLogLine } from "./log_line.ts";
import {
  fieldsOf,
  LINE_CONTEXT,
  LINE_FALLBACK,
  LINE_HIT,
  LINE_IGNORED,
  LineFields,
  parseLogBytes,
} from "./log_line_bytes.ts";
import type { CcRecord, SlptRecord } from "./trace_format.ts";
import { TranslationStore } from "./translation_store.ts";
import { UnorderedMapOrder } from "./unordered_order.ts";

/** Logs per reference tenant-offset (MAX_DOMAINS_PER_LOG). */
const DOMAINS_PER_LOG = 128;
/** The shortest line that can carry a translation (`vtd_iotlb_page_hit sid 0x0 iova 0x0 slpte 0x0 domain 0x0`). */
const MIN_TRANSLATION_LINE = 57;

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

/** What the logs of one build add up to. */
export class TraceInputs {
  readonly translations = new TranslationStore();
  /** Context entries by adjusted SID, in the reference's unordered_map order. */
  readonly contexts = new UnorderedMapOrder<CcRecord>();
  /** Walk reads by SLPTE address, in the reference's unordered_map order. */
  readonly walks = new UnorderedMapOrder<SlptRecord>();
  /** `did + logid·128` → renumbered DID, in order of first appearance. */
  readonly didOrder = new Map<number, number>();
  /** (log, SID) → own SID index, when SID collisions are off. */
  readonly sidOrder = new Map<number, number>();

  /**
   * @param sidCollisions the reference quirk: SIDs only get `+ logid·128`, so more than 14 devices per log collide
   * with the next log's; false gives every (log, device) its own SID `(2 + n) << 3` in order of first appearance.
   */
  constructor(readonly sidCollisions: boolean) {}

  /** Reads log `logId` (`devices` tenant devices) into this build; returns its summary. */
  async readLog(file: string, logId: number, devices: number, signal?: AbortSignal): Promise<LogSummary> {
    const scan = new LogScan(this, file, logId, devices);
    this.translations.reserve(Math.ceil((await Deno.stat(file)).size / MIN_TRANSLATION_LINE));
    const bytes = await forEachLineChunk(file, (buf, start, end) => scan.chunk(buf, start, end), { signal });
    return { ...scan.summary, bytes, tenants: scan.seen.size };
  }
}

/** The state of reading one log. */
class LogScan {
  readonly summary: LogSummary;
  /** Renumbered DIDs this log contributed. */
  readonly seen = new Set<number>();
  readonly #fields = new LineFields();
  readonly #validSids = new Uint8Array(65536);
  readonly #validDids = new Uint8Array(65536);
  /** This log's DIDs → renumbered DIDs (-1: not seen yet). */
  readonly #localDid = new Int32Array(65536).fill(-1);
  readonly #sidOffset: number;

  constructor(readonly inputs: TraceInputs, readonly file: string, readonly logId: number, devices: number) {
    for (let i = 0; i < devices; i++) this.#validSids[(2 + i) << 3] = 1;
    this.#sidOffset = logId * DOMAINS_PER_LOG;
    this.summary = {
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
  }

  /** Takes the whole lines in buf[start, end). Hot: state lives in locals for the loop. */
  chunk(buf: Uint8Array, start: number, end: number): void {
    const f = this.#fields, store = this.inputs.translations, validSids = this.#validSids, localDid = this.#localDid;
    const sidOffset = this.inputs.sidCollisions ? this.#sidOffset : -1;
    const s = this.summary;
    let lineNo = s.lines, ignored = 0, filtered = 0, translations = 0, derived = 0;
    for (let at = start; at < end; at = f.next) {
      lineNo++;
      let kind = parseLogBytes(buf, at, f);
      if (kind === LINE_FALLBACK) kind = this.#parseDecoded(buf, at, lineNo);
      if (kind === LINE_IGNORED) ignored++;
      else if (kind <= LINE_HIT) {
        if (!validSids[f.sid]) {
          filtered++;
          continue;
        }
        const known = localDid[f.did];
        const did = known >= 0 ? known : this.#renumber(f.did);
        store.add(sidOffset >= 0 ? (f.sid + sidOffset) & 0xffff : this.#ownSid(f.sid), did, f);
        translations++;
        if (f.derived) derived++;
      } else if (!this.#other(kind)) filtered++;
    }
    s.lines = lineNo;
    s.ignored += ignored;
    s.filtered += filtered;
    s.translations += translations;
    s.derivedLevels += derived;
  }

  /** A context or walk line in the fields; false when filtered out. */
  #other(kind: number): boolean {
    const f = this.#fields;
    if (kind === LINE_CONTEXT) {
      if (!this.#validSids[f.sid]) return false;
      this.#validDids[f.did] = 1;
      this.#renumber(f.did);
      const sid = this.inputs.sidCollisions ? (f.sid + this.#sidOffset) & 0xffff : this.#ownSid(f.sid);
      const hi = { hi: f.highHi, lo: f.highLo }, lo = { hi: f.lowHi, lo: f.lowLo };
      this.inputs.contexts.set(sid, { sid, hi, lo, gen: f.gen });
      this.summary.contexts++;
      return true;
    }
    if (!this.#validDids[f.did]) return false;
    this.#renumber(f.did);
    addWalk(this.inputs.walks, f);
    this.summary.walks++;
    return true;
  }

  /** The renumbered DID of this log's `did`, assigning the next one if new. */
  #renumber(did: number): number {
    const known = this.#localDid[did];
    if (known >= 0) return known;
    const unique = did + this.logId * DOMAINS_PER_LOG;
    const order = this.inputs.didOrder;
    let g = order.get(unique);
    if (g === undefined) order.set(unique, g = order.size);
    this.seen.add(g);
    return this.#localDid[did] = g & 0xffff;
  }

  /** SID without collisions: `(2 + n) << 3` for the n-th (log, SID) seen. */
  #ownSid(sid: number): number {
    const unique = this.logId * 65536 + sid;
    const order = this.inputs.sidOrder;
    let n = order.get(unique);
    if (n === undefined) order.set(unique, n = order.size);
    return ((2 + n) << 3) & 0xffff;
  }

  /** A line the byte parser left to parseLogLine, parsed there into the fields; a malformed one names file:line. */
  #parseDecoded(buf: Uint8Array, start: number, lineNo: number): number {
    const line = decodeLine(buf, start, this.#fields.lineEnd, lineNo);
    try {
      return fieldsOf(parseLogLine(line), this.#fields);
    } catch (err) {
      if (err instanceof MalformedLine) throw new InputError(`${this.file}:${lineNo}`, err.reason, line);
      throw err;
    }
  }
}

/** Records a walk read under its SLPTE address: table base + 8 · ((iova >> (12 + 9·(level−1))) & 511). */
function addWalk(walks: UnorderedMapOrder<SlptRecord>, f: LineFields): void {
  const shift = 12 + 9 * (f.level - 1);
  const idx = shift < 32
    ? ((f.iovaLo >>> shift) | (shift ? f.iovaHi << (32 - shift) : 0)) & 511
    : (f.iovaHi >>> (shift - 32)) & 511;
  const lo = f.addrLo + idx * 8;
  const slpteAddr = { hi: (f.addrHi + (lo >= 4294967296 ? 1 : 0)) >>> 0, lo: lo >>> 0 };
  const key = slpteAddr.hi * 4294967296 + slpteAddr.lo; // physical addresses are far below 2^53
  walks.set(key, {
    did: f.did,
    slpteAddr,
    lvl: { hi: 0, lo: f.level },
    slpte: { hi: f.slpteHi, lo: f.slpteLo },
    iova: { hi: f.iovaHi, lo: f.iovaLo },
    tableBase: { hi: f.addrHi, lo: f.addrLo },
  });
}

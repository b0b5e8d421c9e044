/**
 * The three binary files of a hyper-tenant trace, byte-compatible with the reference (little-endian, packed, no
 * header): `iotlb_trace.bin` (48 B: u32 type=1, u16 sid, u16 did, u64 iova, mask, lvl, slpte, nat),
 * `cc_data.bin` (20 B: u16 sid, u64 hi, u64 lo, u16 gen) and `slpt_data.bin` (42 B: u16 original did,
 * u64 slpte_addr, lvl, slpte, iova, table_base). Readers stream in chunks and reject truncated or mistyped records.
 * @module
 */
import { type HyperlabError, InputError } from "../core/errors.ts";
import { type U64, U64_MAX } from "./u64.ts";

/** Bytes per `iotlb_trace.bin` record. */
export const IOTLB_RECORD_BYTES = 48;
/** Bytes per `cc_data.bin` record. */
export const CC_RECORD_BYTES = 20;
/** Bytes per `slpt_data.bin` record. */
export const SLPT_RECORD_BYTES = 42;
/** Record type of a translation (`TRANSLATE_EVENT`). */
export const TRANSLATE_TYPE = 1;

/** One translation request. `nat` is the index of the next record with the same (page, DID), or all ones. */
export interface IotlbRecord {
  type: number;
  sid: number;
  did: number;
  iova: U64;
  mask: U64;
  lvl: U64;
  slpte: U64;
  nat: U64;
}

/** One context entry. */
export interface CcRecord {
  sid: number;
  hi: U64;
  lo: U64;
  gen: number;
}

/** One page-table entry read during a walk. */
export interface SlptRecord {
  did: number;
  slpteAddr: U64;
  lvl: U64;
  slpte: U64;
  iova: U64;
  tableBase: U64;
}

/** The three file paths of one trace. */
export interface TraceFiles {
  iotlb: string;
  cc: string;
  slpt: string;
}

/** Paths the reference uses: `<dir>/<name>_tnt_<N>_<order><consec>_{iotlb_trace,cc_data,slpt_data}.bin`. */
export function traceFiles(dir: string, name: string, tenants: number, order: string, consec: number): TraceFiles {
  const p = `${dir.replace(/\/+$/, "")}/${name}_tnt_${tenants}_${order}${consec}_`;
  return { iotlb: `${p}iotlb_trace.bin`, cc: `${p}cc_data.bin`, slpt: `${p}slpt_data.bin` };
}

/** The three paths of a trace given its prefix (everything before `iotlb_trace.bin`, ending in `_`). */
export function traceFilesFromPrefix(prefix: string): TraceFiles {
  const p = prefix.endsWith("_") ? prefix : `${prefix}_`;
  return { iotlb: `${p}iotlb_trace.bin`, cc: `${p}cc_data.bin`, slpt: `${p}slpt_data.bin` };
}

function getU64(v: DataView, off: number): U64 {
  return { hi: v.getUint32(off + 4, true), lo: v.getUint32(off, true) };
}

function setU64(v: DataView, off: number, x: U64): void {
  v.setUint32(off, x.lo, true);
  v.setUint32(off + 4, x.hi, true);
}

/** Encodes one translation record at `off`. */
export function encodeIotlb(v: DataView, off: number, r: IotlbRecord): void {
  v.setUint32(off, r.type, true);
  v.setUint16(off + 4, r.sid, true);
  v.setUint16(off + 6, r.did, true);
  setU64(v, off + 8, r.iova);
  setU64(v, off + 16, r.mask);
  setU64(v, off + 24, r.lvl);
  setU64(v, off + 32, r.slpte);
  setU64(v, off + 40, r.nat);
}

/** Decodes one translation record at `off`. */
export function decodeIotlb(v: DataView, off: number): IotlbRecord {
  return {
    type: v.getUint32(off, true),
    sid: v.getUint16(off + 4, true),
    did: v.getUint16(off + 6, true),
    iova: getU64(v, off + 8),
    mask: getU64(v, off + 16),
    lvl: getU64(v, off + 24),
    slpte: getU64(v, off + 32),
    nat: getU64(v, off + 40),
  };
}

/** Encodes one context record at `off`. */
export function encodeCc(v: DataView, off: number, r: CcRecord): void {
  v.setUint16(off, r.sid, true);
  setU64(v, off + 2, r.hi);
  setU64(v, off + 10, r.lo);
  v.setUint16(off + 18, r.gen, true);
}

/** Decodes one context record at `off`. */
export function decodeCc(v: DataView, off: number): CcRecord {
  return {
    sid: v.getUint16(off, true),
    hi: getU64(v, off + 2),
    lo: getU64(v, off + 10),
    gen: v.getUint16(off + 18, true),
  };
}

/** Encodes one page-table record at `off`. */
export function encodeSlpt(v: DataView, off: number, r: SlptRecord): void {
  v.setUint16(off, r.did, true);
  setU64(v, off + 2, r.slpteAddr);
  setU64(v, off + 10, r.lvl);
  setU64(v, off + 18, r.slpte);
  setU64(v, off + 26, r.iova);
  setU64(v, off + 34, r.tableBase);
}

/** Decodes one page-table record at `off`. */
export function decodeSlpt(v: DataView, off: number): SlptRecord {
  return {
    did: v.getUint16(off, true),
    slpteAddr: getU64(v, off + 2),
    lvl: getU64(v, off + 10),
    slpte: getU64(v, off + 18),
    iova: getU64(v, off + 26),
    tableBase: getU64(v, off + 34),
  };
}

/** True when `nat` is all ones (no next access). */
export function isNoNext(nat: U64): boolean {
  return nat.hi === U64_MAX.hi && nat.lo === U64_MAX.lo;
}

/** Buffered synchronous writer of fixed-size records. */
export class RecordWriter implements Disposable {
  #file: Deno.FsFile;
  #buf: Uint8Array;
  #view: DataView;
  #used = 0;
  #count = 0;
  /** The buffer as u32 words (for 4-byte aligned record sizes). */
  readonly words: Uint32Array;

  constructor(path: string, readonly recordBytes: number, bufferRecords = 1 << 14) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#buf = new Uint8Array(recordBytes * bufferRecords);
    this.#view = new DataView(this.#buf.buffer);
    this.words = new Uint32Array(this.#buf.buffer, 0, this.#buf.length >> 2);
  }

  /** Records written so far. */
  get count(): number {
    return this.#count;
  }

  /** Reserves the next record and returns its view and offset for an encoder. */
  next(): [DataView, number] {
    return [this.#view, this.reserve()];
  }

  /**
   * Reserves the next `count` records (at most the buffer's capacity) and returns the byte offset of the first in
   * the buffer (`words` views the same bytes).
   */
  reserve(count = 1): number {
    const bytes = this.recordBytes * count;
    if (bytes > this.#buf.length) {
      throw new RangeError(`cannot reserve ${count} records in a ${this.#buf.length} B buffer`);
    }
    if (this.#used + bytes > this.#buf.length) this.flush();
    const off = this.#used;
    this.#used += bytes;
    this.#count += count;
    return off;
  }

  /** Writes out the buffered records. */
  flush(): void {
    let done = 0;
    while (done < this.#used) done += this.#file.writeSync(this.#buf.subarray(done, this.#used));
    this.#used = 0;
  }

  [Symbol.dispose](): void {
    this.flush();
    this.#file.close();
  }
}

/**
 * Streams fixed-size records of a file in chunks. Throws InputError for a trailing partial record (the reference
 * silently drops it).
 */
export class RecordReader implements Disposable {
  #file: Deno.FsFile;
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  #pos = 0;
  #index = 0;
  #eof = false;

  constructor(readonly path: string, readonly recordBytes: number, chunkRecords = 1 << 14) {
    try {
      this.#file = Deno.openSync(path, { read: true });
    } catch (e) {
      throw new InputError(path, "a readable trace file", undefined, { hint: (e as Error).message });
    }
    this.#buf = new Uint8Array(recordBytes * chunkRecords);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Index of the record `next` returns next. */
  get index(): number {
    return this.#index;
  }

  /** The buffer view records are read from (valid until the next call to `nextOffset`/`next`). */
  get view(): DataView {
    return this.#view;
  }

  /** Offset in `view` of the next record, or -1 at the end (no allocation: the model's hot path). */
  nextOffset(): number {
    if (this.#len - this.#pos < this.recordBytes) {
      if (!this.#fill()) return -1;
    }
    const off = this.#pos;
    this.#pos += this.recordBytes;
    this.#index++;
    return off;
  }

  /** View and offset of the next record, or null at the end. */
  next(): [DataView, number] | null {
    const off = this.nextOffset();
    return off < 0 ? null : [this.#view, off];
  }

  #fill(): boolean {
    if (this.#eof) return this.#partial();
    this.#buf.copyWithin(0, this.#pos, this.#len);
    this.#len -= this.#pos;
    this.#pos = 0;
    while (this.#len < this.recordBytes) {
      const n = this.#file.readSync(this.#buf.subarray(this.#len));
      if (n === null || n === 0) {
        this.#eof = true;
        return this.#partial();
      }
      this.#len += n;
    }
    // Top up the rest of the buffer opportunistically.
    while (this.#len < this.#buf.length) {
      const n = this.#file.readSync(this.#buf.subarray(this.#len));
      if (n === null || n === 0) {
        this.#eof = true;
        break;
      }
      this.#len += n;
    }
    return true;
  }

  #partial(): boolean {
    const left = this.#len - this.#pos;
    if (left === 0) return false;
    throw new InputError(
      this.path,
      `a whole number of ${this.recordBytes}-byte records`,
      `${left} trailing bytes after record ${this.#index}`,
    );
  }

  [Symbol.dispose](): void {
    this.#file.close();
  }
}

/** Reads every translation record of a file (checks the type field). */
export function* readIotlbFile(path: string): Generator<IotlbRecord> {
  using r = new RecordReader(path, IOTLB_RECORD_BYTES);
  for (let x = r.next(); x; x = r.next()) {
    const rec = decodeIotlb(x[0], x[1]);
    if (rec.type !== TRANSLATE_TYPE) throw badType(path, r.index - 1, rec.type);
    yield rec;
  }
}

/** The error for a record whose type is not a translation (the reference stops with "Read an unknown event!"). */
export function badType(path: string, index: number, type: number): HyperlabError {
  return new InputError(`${path} record ${index} type`, `${TRANSLATE_TYPE} (translation)`, type);
}

/** Reads every context record of a file. */
export function* readCcFile(path: string): Generator<CcRecord> {
  using r = new RecordReader(path, CC_RECORD_BYTES);
  for (let x = r.next(); x; x = r.next()) yield decodeCc(x[0], x[1]);
}

/** Reads every page-table record of a file. */
export function* readSlptFile(path: string): Generator<SlptRecord> {
  using r = new RecordReader(path, SLPT_RECORD_BYTES);
  for (let x = r.next(); x; x = r.next()) yield decodeSlpt(x[0], x[1]);
}

/**
 * The log-line parser on raw bytes: the grammar of log_line.ts's fast path (single-space separated `key 0x…` fields
 * in one of the known layouts), read straight from the file buffer into one reused LineFields, with no string, token
 * or per-field object. It also finds where the line ends while parsing it, so the common line costs no separate
 * newline search. A line it does not recognise as that common shape comes back as LINE_FALLBACK: the caller decodes it
 * and asks parseLogLine, which handles any whitespace and words the errors. So whenever this parser answers, it answers
 * what parseLogLine would for the same line (a differential test holds it to that).
 *
 * ASCII structure survives UTF-8 decoding (every byte of a multi-byte or invalid sequence is >= 0x80, and ASCII
 * bytes are never swallowed), so the positions found here are those of the decoded line.
 * @module
 */
import type { LogEvent } from "./log_line.ts";
import { levelMask } from "./u64.ts";

/** The line names none of the four events. */
export const LINE_IGNORED = 0;
/** `vtd_iotlb_page_update`. */
export const LINE_UPDATE = 1;
/** `vtd_iotlb_page_hit`. */
export const LINE_HIT = 2;
/** `vtd_iotlb_cc_update`. */
export const LINE_CONTEXT = 3;
/** `vtd_slpte_fetch`. */
export const LINE_WALK = 4;
/** Not the common shape: decode the line (`lineEnd`) and use parseLogLine. */
export const LINE_FALLBACK = -1;

/**
 * One parsed line: where it ends, and its fields as 32-bit halves. Which fields are set depends on the kind:
 * translations (update, hit) set sid, did, iova, slpte, level, mask, derived; contexts set sid, did, high, low, gen;
 * walks set did, high, low, iova, level, addr, slpte.
 */
export class LineFields {
  /** End of the line's text (before `\n`, or before `\r\n`). */
  lineEnd = 0;
  /** Start of the next line. */
  next = 0;
  sid = 0;
  did = 0;
  level = 0;
  gen = 0;
  derived = false;
  iovaHi = 0;
  iovaLo = 0;
  slpteHi = 0;
  slpteLo = 0;
  maskHi = 0;
  maskLo = 0;
  highHi = 0;
  highLo = 0;
  lowHi = 0;
  lowLo = 0;
  addrHi = 0;
  addrLo = 0;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const NAMES = [
  ascii("vtd_iotlb_page_update"),
  ascii("vtd_iotlb_page_hit"),
  ascii("vtd_iotlb_cc_update"),
  ascii("vtd_slpte_fetch"),
];
const K_SID = ascii("sid"), K_BUS = ascii("bus"), K_IOVA = ascii("iova"), K_SLPTE = ascii("slpte");
const K_LEVEL = ascii("level"), K_DOMAIN = ascii("domain"), K_PMASK = ascii("pmask"), K_DEVFN = ascii("devfn");
const K_HIGH = ascii("high"), K_LOW = ascii("low"), K_GEN = ascii("gen"), K_ADDR = ascii("addr");
/** The first key of each event, and ` <first key> `, indexed by kind. */
const FIRST_KEY = [new Uint8Array(), K_SID, K_SID, K_BUS, K_HIGH];
const FIRST = FIRST_KEY.map((k) => ascii(` ${String.fromCharCode(...k)} `));
const MASK_HI = [0, 1, 2, 3].map((l) => (l ? levelMask(l).hi : 0));
const MASK_LO = [0, 1, 2, 3].map((l) => (l ? levelMask(l).lo : 0));
const NL = 10, CR = 13, SPACE = 32;

/** Value of each byte as a hex digit, or -1. */
const HEX_DIGIT = new Int8Array(256).fill(-1);
for (let c = 0; c < 256; c++) {
  if (c >= 48 && c <= 57) HEX_DIGIT[c] = c - 48;
  else if ((c | 32) >= 97 && (c | 32) <= 102) HEX_DIGIT[c] = (c | 32) - 87;
}

/** Values of the fields the last `layout` call read, as 32-bit halves (signed; `>>> 0` for unsigned). */
const HI = new Int32Array(8), LO = new Int32Array(8);

/** True when b[i] ends a line's text: `\n`, or `\r\n`. */
function atLineEnd(b: Uint8Array, i: number): boolean {
  return b[i] === NL || (b[i] === CR && b[i + 1] === NL);
}

/** Index of the value after `key ` at `p`, or -1. */
function key(b: Uint8Array, p: number, k: Uint8Array): number {
  const n = k.length;
  for (let j = 0; j < n; j++) if (b[p + j] !== k[j]) return -1;
  return b[p + n] === SPACE ? p + n + 1 : -1;
}

/**
 * Reads `key 0x…` fields in the order of `keys`, single-space separated, from `p` into HI/LO: values of at most 16
 * significant hex digits, each ending at a space or the line's end. Returns the index after the last value, or -1.
 * One loop with everything inline, so the hot path is one call per line.
 */
function layout(b: Uint8Array, p: number, keys: Uint8Array[]): number {
  for (let j = 0; j < keys.length; j++) {
    if (j > 0) {
      if (b[p] !== SPACE) return -1;
      p++;
    }
    const k = keys[j], n = k.length;
    for (let c = 0; c < n; c++) if (b[p + c] !== k[c]) return -1;
    if (b[p + n] !== SPACE || b[p + n + 1] !== 48 || (b[p + n + 2] | 32) !== 120) return -1;
    const digits = p + n + 3;
    let i = digits;
    while (b[i] === 48) i++;
    const first = i;
    let hi = 0, lo = 0;
    for (let d = HEX_DIGIT[b[i]]; d >= 0; d = HEX_DIGIT[b[++i]]) {
      hi = (hi << 4) | (lo >>> 28);
      lo = (lo << 4) | d;
    }
    if (i === digits || i - first > 16 || (b[i] !== SPACE && !atLineEnd(b, i))) return -1;
    HI[j] = hi;
    LO[j] = lo;
    p = i;
  }
  return p;
}

/** First index of `pat` in b[from, e), or -1. */
function indexOf(b: Uint8Array, from: number, e: number, pat: Uint8Array): number {
  const n = pat.length, c0 = pat[0];
  outer: for (let i = from; i + n <= e; i++) {
    if (b[i] !== c0) continue;
    for (let j = 1; j < n; j++) if (b[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}

/** Where the last eventAt stopped: after the event's name, or at the newline that ended a line without `vtd_`. */
let scanStop = 0;

/** Which of the four events the line at `s` names (LINE_*), or LINE_IGNORED; sets scanStop. */
function eventAt(b: Uint8Array, s: number): number {
  let i = s;
  for (;; i++) {
    const c = b[i];
    if (c === 118) {
      if (b[i + 1] === 116 && b[i + 2] === 100 && b[i + 3] === 95) break;
    } else if (c === NL) {
      scanStop = i;
      return LINE_IGNORED;
    }
  }
  scanStop = i;
  // The names differ at fixed offsets, so at most one can match: `vtd_s…`, `vtd_iotlb_c…`, `vtd_iotlb_page_u…`.
  const kind = b[i + 4] === 115
    ? LINE_WALK
    : b[i + 10] === 99
    ? LINE_CONTEXT
    : b[i + 15] === 117
    ? LINE_UPDATE
    : LINE_HIT;
  const name = NAMES[kind - 1], n = name.length;
  for (let j = 4; j < n; j++) if (b[i + j] !== name[j]) return LINE_IGNORED;
  const after = b[i + n];
  if (after !== SPACE && after !== 9 && !atLineEnd(b, i + n)) return LINE_IGNORED;
  scanStop = i + n;
  return kind;
}

/**
 * Parses the line starting at `s` into `f`, including `f.lineEnd` and `f.next`. A newline must follow somewhere in
 * `b` (the line readers guarantee one after every line). Returns LINE_IGNORED, a LINE_* kind with `f` filled in, or
 * LINE_FALLBACK when the line must go through parseLogLine.
 */
export function parseLogBytes(b: Uint8Array, s: number, f: LineFields): number {
  let kind = eventAt(b, s);
  let tail = -1;
  if (kind === LINE_IGNORED) {
    if (b[scanStop] === NL) return endAt(b, s, scanStop, f);
  } else {
    // The string parser starts at the last ` <first key> `; this takes the first and checks no other follows.
    const firstKey = FIRST_KEY[kind];
    let start = scanStop;
    while (b[start] !== NL && (b[start] !== SPACE || key(b, start + 1, firstKey) < 0)) start++;
    if (b[start] === NL) {
      endAt(b, s, start, f);
      return LINE_FALLBACK;
    }
    const p = start + 1;
    tail = kind <= LINE_HIT ? translate(b, p, kind, f) : kind === LINE_CONTEXT ? context(b, p, f) : walk(b, p, f);
    if (tail < 0) kind = LINE_FALLBACK;
    else if (atLineEnd(b, tail)) {
      f.lineEnd = tail;
      f.next = b[tail] === NL ? tail + 1 : tail + 2;
      return kind;
    }
  }
  endAt(b, s, b.indexOf(NL, Math.max(s, tail)), f);
  if (kind > 0 && indexOf(b, tail, f.lineEnd, FIRST[kind]) >= 0) return LINE_FALLBACK;
  return kind;
}

/** Sets the line bounds of the line at `s` from its newline `nl`; returns LINE_IGNORED. */
function endAt(b: Uint8Array, s: number, nl: number, f: LineFields): number {
  f.lineEnd = nl > s && b[nl - 1] === CR ? nl - 1 : nl;
  f.next = nl + 1;
  return LINE_IGNORED;
}

/** Field layouts: the patched format's, and stock QEMU's where it differs (no `level` / `pmask`). */
const UPDATE = [K_SID, K_IOVA, K_SLPTE, K_LEVEL, K_DOMAIN], UPDATE_STOCK = [K_SID, K_IOVA, K_SLPTE, K_DOMAIN];
const HIT = [K_SID, K_IOVA, K_PMASK, K_SLPTE, K_DOMAIN], HIT_STOCK = [K_SID, K_IOVA, K_SLPTE, K_DOMAIN];
const CONTEXT = [K_BUS, K_DEVFN, K_HIGH, K_LOW], WALK = [K_HIGH, K_LOW, K_IOVA, K_LEVEL, K_ADDR, K_SLPTE];

/** True when field j fits in `bits` (< 32) bits. */
const fits = (j: number, bits: number) => HI[j] === 0 && LO[j] >>> 0 < 2 ** bits;

// A layout's keys match or they do not, and the two layouts of an event differ in a key, so trying the stock layout
// after any failure of the patched one answers as the string parser's keys-first choice does.
function translate(b: Uint8Array, p: number, kind: number, f: LineFields): number {
  let end = layout(b, p, kind === LINE_UPDATE ? UPDATE : HIT), level = 0, derived = false;
  if (end >= 0) {
    if (kind === LINE_UPDATE) {
      if (HI[3] !== 0 || LO[3] < 1 || LO[3] > 3) return -1;
      level = LO[3];
    } else {
      for (let l = 1; l <= 3; l++) if (HI[2] >>> 0 === MASK_HI[l] && LO[2] >>> 0 === MASK_LO[l]) level = l;
      if (!level) return -1;
    }
  } else {
    end = layout(b, p, kind === LINE_UPDATE ? UPDATE_STOCK : HIT_STOCK);
    if (end < 0) return -1;
    derived = true;
  }
  const slpte = kind === LINE_UPDATE || derived ? 2 : 3, domain = derived ? 3 : 4;
  if (!fits(0, 16) || !fits(domain, 16)) return -1;
  if (derived) level = LO[slpte] & 0x80 ? 2 : 1;
  f.sid = LO[0];
  f.iovaHi = HI[1] >>> 0, f.iovaLo = LO[1] >>> 0;
  f.slpteHi = HI[slpte] >>> 0, f.slpteLo = LO[slpte] >>> 0;
  f.did = LO[domain];
  f.level = level;
  f.derived = derived;
  f.maskHi = MASK_HI[level];
  f.maskLo = MASK_LO[level];
  return end;
}

function context(b: Uint8Array, p: number, f: LineFields): number {
  p = layout(b, p, CONTEXT);
  if (p < 0 || !fits(0, 8) || !fits(1, 8)) return -1;
  f.sid = (LO[0] << 8) | LO[1];
  f.highHi = HI[2] >>> 0, f.highLo = LO[2] >>> 0;
  f.did = (LO[2] >>> 8) & 0xffff;
  f.lowHi = HI[3] >>> 0, f.lowLo = LO[3] >>> 0;
  // `gen` is decimal in QEMU but the reference reads it as hex and keeps 16 bits: the last four leading hex digits.
  if (b[p] !== SPACE) return -1;
  p = key(b, p + 1, K_GEN);
  if (p < 0) return -1;
  let g = 0, i = p;
  for (; HEX_DIGIT[b[i]] >= 0; i++) g = ((g << 4) | HEX_DIGIT[b[i]]) & 0xffff;
  if (i === p) return -1;
  f.gen = g;
  return i;
}

function walk(b: Uint8Array, p: number, f: LineFields): number {
  p = layout(b, p, WALK);
  if (p < 0 || HI[3] !== 0 || LO[3] < 1 || LO[3] > 5) return -1;
  f.highHi = HI[0] >>> 0, f.highLo = LO[0] >>> 0;
  f.did = (LO[0] >>> 8) & 0xffff;
  f.lowHi = HI[1] >>> 0, f.lowLo = LO[1] >>> 0;
  f.iovaHi = HI[2] >>> 0, f.iovaLo = LO[2] >>> 0;
  f.level = LO[3];
  f.addrHi = HI[4] >>> 0, f.addrLo = LO[4] >>> 0;
  f.slpteHi = HI[5] >>> 0, f.slpteLo = LO[5] >>> 0;
  return p;
}

/** Copies an event from parseLogLine into `f`; returns its LINE_* kind (LINE_IGNORED for null). */
export function fieldsOf(e: LogEvent | null, f: LineFields): number {
  if (!e) return LINE_IGNORED;
  if (e.kind === "translate") {
    f.sid = e.sid, f.did = e.did, f.level = e.level, f.derived = e.derived;
    f.iovaHi = e.iova.hi, f.iovaLo = e.iova.lo, f.slpteHi = e.slpte.hi, f.slpteLo = e.slpte.lo;
    f.maskHi = e.mask.hi, f.maskLo = e.mask.lo;
    return e.event === "update" ? LINE_UPDATE : LINE_HIT;
  }
  f.did = e.did, f.highHi = e.high.hi, f.highLo = e.high.lo, f.lowHi = e.low.hi, f.lowLo = e.low.lo;
  if (e.kind === "context") {
    f.sid = e.sid, f.gen = e.gen;
    return LINE_CONTEXT;
  }
  f.iovaHi = e.iova.hi, f.iovaLo = e.iova.lo, f.level = e.level;
  f.addrHi = e.addr.hi, f.addrLo = e.addr.lo, f.slpteHi = e.slpte.hi, f.slpteLo = e.slpte.lo;
  return LINE_WALK;
}

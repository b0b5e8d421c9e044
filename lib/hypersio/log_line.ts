/**
 * One line of a QEMU `log`-backend trace (`<pid>@<sec>.<usec>:<event> <text>`) holding one of the four intel-iommu
 * events the trace constructor uses. Both the reference's patched QEMU 3.0 format and stock QEMU's are understood:
 * stock `vtd_iotlb_page_update`/`_hit` lack `level`/`pmask`, so the level is derived from the SLPTE's PS bit (bit 7:
 * set → 2 MiB, clear → 4 KiB; a 1 GiB leaf also has PS set and is then reported as 2 MiB) and the event says
 * `derived: true`. Stock QEMU has no `vtd_slpte_fetch`.
 * @module
 */
import { levelMask, maskLevel, type U64 } from "./u64.ts";

/** An IOTLB miss (`update`) or hit (`hit`) of one device's DMA address. */
export interface TranslateLine {
  kind: "translate";
  event: "update" | "hit";
  sid: number;
  iova: U64;
  slpte: U64;
  /** Leaf level 1–3. */
  level: number;
  mask: U64;
  did: number;
  /** True when level and mask were derived from the SLPTE (stock QEMU format). */
  derived: boolean;
}

/** A context-cache fill: `sid = bus << 8 | devfn`, `did = (high >> 8) & 0xffff`. */
export interface ContextLine {
  kind: "context";
  sid: number;
  high: U64;
  low: U64;
  /** The first number after `gen` (the old generation), parsed as hex and kept to 16 bits, as the reference does. */
  gen: number;
  did: number;
}

/** One page-table read of a walk (patched QEMU only). */
export interface WalkLine {
  kind: "walk";
  high: U64;
  low: U64;
  iova: U64;
  level: number;
  addr: U64;
  slpte: U64;
  did: number;
}

/** An event the constructor uses. */
export type LogEvent = TranslateLine | ContextLine | WalkLine;

/** A line naming one of the four events but not in their format. */
export class MalformedLine extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

const EVENT_NAMES = ["vtd_iotlb_page_update", "vtd_iotlb_page_hit", "vtd_iotlb_cc_update", "vtd_slpte_fetch"];

/** Field sequences per event; the first list is the patched format, the second (if any) stock QEMU's. */
const LAYOUTS: Record<string, string[][]> = {
  vtd_iotlb_page_update: [["sid", "iova", "slpte", "level", "domain"], ["sid", "iova", "slpte", "domain"]],
  vtd_iotlb_page_hit: [["sid", "iova", "pmask", "slpte", "domain"], ["sid", "iova", "slpte", "domain"]],
  vtd_iotlb_cc_update: [["bus", "devfn", "high", "low", "gen"]],
  vtd_slpte_fetch: [["high", "low", "iova", "level", "addr", "slpte"]],
};

/**
 * Parses one line. Returns null for lines that carry none of the four events (other trace events, blank lines,
 * QEMU messages); throws MalformedLine with the reason when a line names one of them but does not fit its format.
 */
export function parseLogLine(line: string): LogEvent | null {
  const at = line.indexOf("vtd_");
  if (at < 0) return null;
  let name = "";
  for (const n of EVENT_NAMES) {
    if (line.startsWith(n, at)) {
      const after = line.charCodeAt(at + n.length);
      if (Number.isNaN(after) || after === 32 || after === 9) name = n;
      break;
    }
  }
  if (!name) return null;
  return fastParse(line, name) ?? slowParse(line, at, name);
}

const POS = new Int32Array(16);

/** Scans `key value` pairs from `from`; records value ranges in POS. False on any deviation. */
function scan(line: string, keys: string[], from: number): boolean {
  let p = from;
  for (let j = 0; j < keys.length; j++) {
    const k = keys[j];
    if (!line.startsWith(k, p) || line.charCodeAt(p + k.length) !== 32) return false;
    p += k.length + 1;
    let e = line.indexOf(" ", p);
    if (e < 0) e = line.length;
    if (e === p) return false;
    POS[2 * j] = p;
    POS[2 * j + 1] = e;
    p = e + 1;
  }
  return true;
}

/** Hex value of line[s, e) (`0x` + up to 16 digits) fitting `bits`, or null. */
/** Parses `0x…` hex in `text[s, e)` into a 64-bit value (no allocation but the result), or null. */
function hexRange(text: string, s: number, e: number): U64 | null {
  if (e - s < 3 || text.charCodeAt(s) !== 48 || (text.charCodeAt(s + 1) | 32) !== 120) return null;
  let i = s + 2;
  while (i < e - 1 && text.charCodeAt(i) === 48) i++;
  if (e - i > 16) return null;
  let hi = 0, lo = 0;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else {
      const l = c | 32;
      if (l < 97 || l > 102) return null;
      d = l - 87;
    }
    hi = hi * 16 + (lo >>> 28);
    lo = ((lo << 4) | d) >>> 0;
  }
  return { hi, lo };
}

function hexAt(line: string, j: number, bits = 64): U64 | null {
  const v = hexRange(line, POS[2 * j], POS[2 * j + 1]);
  if (v && bits < 64 && (v.hi !== 0 || (bits < 32 && v.lo >= 2 ** bits))) return null;
  return v;
}

/**
 * The common case without allocating tokens: single-space separated fields in one of the known layouts with valid
 * values. Returns undefined whenever anything deviates, so the general path decides (and words the error).
 */
function fastParse(line: string, name: string): LogEvent | undefined {
  const layouts = LAYOUTS[name];
  const first = line.lastIndexOf(` ${layouts[0][0]} `);
  if (first < 0) return undefined;
  for (let li = 0; li < layouts.length; li++) {
    const keys = layouts[li];
    if (!scan(line, keys, first + 1)) continue;
    if (name === "vtd_iotlb_cc_update") {
      const bus = hexAt(line, 0, 8), devfn = hexAt(line, 1, 8), high = hexAt(line, 2), low = hexAt(line, 3);
      if (!bus || !devfn || !high || !low) return undefined;
      const gs = POS[8];
      let ge = gs;
      while (ge < POS[9] && isHexDigit(line.charCodeAt(ge))) ge++;
      if (ge === gs) return undefined;
      const gen = parseInt(line.slice(Math.max(gs, ge - 4), ge), 16) & 0xffff;
      return { kind: "context", sid: (bus.lo << 8) | devfn.lo, high, low, gen, did: (high.lo >>> 8) & 0xffff };
    }
    if (name === "vtd_slpte_fetch") {
      const high = hexAt(line, 0), low = hexAt(line, 1), iova = hexAt(line, 2), lv = hexAt(line, 3, 8);
      const addr = hexAt(line, 4), slpte = hexAt(line, 5);
      if (!high || !low || !iova || !lv || !addr || !slpte || lv.lo < 1 || lv.lo > 5) return undefined;
      return { kind: "walk", high, low, iova, level: lv.lo, addr, slpte, did: (high.lo >>> 8) & 0xffff };
    }
    const event = name === "vtd_iotlb_page_update" ? "update" : "hit";
    const sid = hexAt(line, 0, 16), iova = hexAt(line, 1);
    if (!sid || !iova) return undefined;
    if (li === 1) {
      const slpte = hexAt(line, 2), did = hexAt(line, 3, 16);
      if (!slpte || !did) return undefined;
      const level = slpte.lo & 0x80 ? 2 : 1;
      return {
        kind: "translate",
        event,
        sid: sid.lo,
        iova,
        slpte,
        level,
        mask: levelMask(level),
        did: did.lo,
        derived: true,
      };
    }
    if (event === "update") {
      const slpte = hexAt(line, 2), lv = hexAt(line, 3, 8), did = hexAt(line, 4, 16);
      if (!slpte || !lv || !did || lv.lo < 1 || lv.lo > 3) return undefined;
      return {
        kind: "translate",
        event,
        sid: sid.lo,
        iova,
        slpte,
        level: lv.lo,
        mask: levelMask(lv.lo),
        did: did.lo,
        derived: false,
      };
    }
    const mask = hexAt(line, 2), slpte = hexAt(line, 3), did = hexAt(line, 4, 16);
    if (!mask || !slpte || !did) return undefined;
    const level = maskLevel(mask);
    if (!level) return undefined;
    return { kind: "translate", event, sid: sid.lo, iova, slpte, level, mask, did: did.lo, derived: false };
  }
  return undefined;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

/** General path: any whitespace, exact error messages. */
function slowParse(line: string, at: number, name: string): LogEvent {
  const rest = line.slice(at + name.length);
  const tokens = rest.trim().split(/\s+/);
  const f = matchLayout(name, tokens);
  switch (name) {
    case "vtd_iotlb_page_update":
    case "vtd_iotlb_page_hit":
      return translate(name, f);
    case "vtd_iotlb_cc_update":
      return context(f);
    default:
      return walk(f);
  }
}

/** Field values of a matched layout, by key. */
type Fields = Record<string, string>;

function matchLayout(name: string, tokens: string[]): Fields {
  const layouts = LAYOUTS[name];
  const first = layouts[0][0];
  const start = tokens.lastIndexOf(first);
  if (start < 0) throw new MalformedLine(`${name}: missing field "${first}"`);
  let problem = "";
  for (const keys of layouts) {
    let ok = true;
    for (let j = 0; j < keys.length; j++) {
      const tok = tokens[start + 2 * j];
      if (tok !== keys[j]) {
        problem ||= `${name}: expected field "${keys[j]}" after ${j ? `"${keys[j - 1]}"` : "the event name"}` +
          ` (got ${tok === undefined ? "end of line" : JSON.stringify(tok)})`;
        ok = false;
        break;
      }
      if (tokens[start + 2 * j + 1] === undefined) {
        problem = `${name}: field "${keys[j]}" has no value`;
        ok = false;
        break;
      }
    }
    if (ok) {
      const f: Fields = {};
      for (let j = 0; j < keys.length; j++) f[keys[j]] = tokens[start + 2 * j + 1];
      return f;
    }
  }
  throw new MalformedLine(problem);
}

/** Parses `0x` + 1..16 hex digits (leading zeros allowed) without regular expressions; null when invalid. */
function hex64(s: string): U64 | null {
  return hexRange(s, 0, s.length);
}

function hexField(f: Fields, key: string, bits = 64): U64 {
  const text = f[key];
  const v = hex64(text);
  if (!v) {
    throw new MalformedLine(
      `field "${key}" must be a 0x-prefixed hex number of at most 64 bits (got ${JSON.stringify(text)})`,
    );
  }
  if (bits < 64 && (v.hi !== 0 || (bits < 32 && v.lo >= 2 ** bits))) {
    throw new MalformedLine(`field "${key}" must fit in ${bits} bits (got ${text})`);
  }
  return v;
}

function translate(name: string, f: Fields): TranslateLine {
  const sid = hexField(f, "sid", 16).lo;
  const iova = hexField(f, "iova");
  const slpte = hexField(f, "slpte");
  const did = hexField(f, "domain", 16).lo;
  const event = name === "vtd_iotlb_page_update" ? "update" : "hit";
  if (f.level !== undefined) {
    const level = hexField(f, "level", 8).lo;
    if (level < 1 || level > 3) {
      throw new MalformedLine(`field "level" must be a leaf level 1..3 (got ${f.level})`);
    }
    return { kind: "translate", event, sid, iova, slpte, level, mask: levelMask(level), did, derived: false };
  }
  if (f.pmask !== undefined) {
    const mask = hexField(f, "pmask");
    const level = maskLevel(mask);
    if (!level) {
      throw new MalformedLine(`field "pmask" must be the page mask of a 4K, 2M or 1G page (got ${f.pmask})`);
    }
    return { kind: "translate", event, sid, iova, slpte, level, mask, did, derived: false };
  }
  const level = slpte.lo & 0x80 ? 2 : 1;
  return { kind: "translate", event, sid, iova, slpte, level, mask: levelMask(level), did, derived: true };
}

function context(f: Fields): ContextLine {
  const bus = hexField(f, "bus", 8).lo;
  const devfn = hexField(f, "devfn", 8).lo;
  const high = hexField(f, "high");
  const low = hexField(f, "low");
  const genText = f.gen;
  const g = /^[0-9a-fA-F]+/.exec(genText);
  if (!g) throw new MalformedLine(`field "gen" must be a number (got ${JSON.stringify(genText)})`);
  const gen = parseInt(g[0].slice(-4), 16) & 0xffff;
  return { kind: "context", sid: (bus << 8) | devfn, high, low, gen, did: (high.lo >>> 8) & 0xffff };
}

function walk(f: Fields): WalkLine {
  const high = hexField(f, "high");
  const level = hexField(f, "level", 8).lo;
  if (level < 1 || level > 5) {
    throw new MalformedLine(`field "level" must be a page-table level 1..5 (got ${f.level})`);
  }
  return {
    kind: "walk",
    high,
    low: hexField(f, "low"),
    iova: hexField(f, "iova"),
    level,
    addr: hexField(f, "addr"),
    slpte: hexField(f, "slpte"),
    did: (high.lo >>> 8) & 0xffff,
  };
}

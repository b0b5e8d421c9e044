/**
 * One line of a QEMU `log`-backend trace (`<pid>@<sec>.<usec>:<event> <text>`) holding one of the four intel-iommu
 * events the trace constructor uses. Both the reference's patched QEMU 3.0 format and stock QEMU's are understood:
 * stock `vtd_iotlb_page_update`/`_hit` lack `level`/`pmask`, so the level is derived from the SLPTE's PS bit (bit 7:
 * set → 2 MiB, clear → 4 KiB; a 1 GiB leaf also has PS set and is then reported as 2 MiB) and the event says
 * `derived: true`. Stock QEMU has no `vtd_slpte_fetch`.
 * @module
 */
import { levelMask, maskLevel, parseHex64, type U64 } from "./u64.ts";

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
  const tokens = line.slice(at + name.length).trim().split(/\s+/);
  const fields = matchLayout(name, tokens);
  switch (name) {
    case "vtd_iotlb_page_update":
    case "vtd_iotlb_page_hit":
      return translate(name, fields);
    case "vtd_iotlb_cc_update":
      return context(fields);
    default:
      return walk(fields);
  }
}

function matchLayout(name: string, tokens: string[]): Map<string, string> {
  const layouts = LAYOUTS[name];
  const first = layouts[0][0];
  const start = tokens.lastIndexOf(first);
  if (start < 0) throw new MalformedLine(`${name}: missing field "${first}"`);
  let best: Map<string, string> | null = null;
  let problem = "";
  for (const keys of layouts) {
    const got = new Map<string, string>();
    let i = start;
    let ok = true;
    for (const k of keys) {
      if (tokens[i] !== k) {
        problem ||=
          `${name}: expected field "${k}" after ${got.size ? `"${[...got.keys()].at(-1)}"` : "the event name"}` +
          ` (got ${tokens[i] === undefined ? "end of line" : JSON.stringify(tokens[i])})`;
        ok = false;
        break;
      }
      if (tokens[i + 1] === undefined) {
        problem = `${name}: field "${k}" has no value`;
        ok = false;
        break;
      }
      got.set(k, tokens[i + 1]);
      i += 2;
    }
    if (ok) {
      best = got;
      break;
    }
  }
  if (!best) throw new MalformedLine(problem);
  return best;
}

function hexField(fields: Map<string, string>, key: string, bits = 64): U64 {
  const text = fields.get(key)!;
  const v = parseHex64(text);
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

function translate(name: string, f: Map<string, string>): TranslateLine {
  const sid = hexField(f, "sid", 16).lo;
  const iova = hexField(f, "iova");
  const slpte = hexField(f, "slpte");
  const did = hexField(f, "domain", 16).lo;
  const event = name === "vtd_iotlb_page_update" ? "update" : "hit";
  if (f.has("level")) {
    const level = hexField(f, "level", 8).lo;
    if (level < 1 || level > 3) {
      throw new MalformedLine(`field "level" must be a leaf level 1..3 (got ${f.get("level")})`);
    }
    return { kind: "translate", event, sid, iova, slpte, level, mask: levelMask(level), did, derived: false };
  }
  if (f.has("pmask")) {
    const mask = hexField(f, "pmask");
    const level = maskLevel(mask);
    if (!level) {
      throw new MalformedLine(`field "pmask" must be the page mask of a 4K, 2M or 1G page (got ${f.get("pmask")})`);
    }
    return { kind: "translate", event, sid, iova, slpte, level, mask, did, derived: false };
  }
  const level = slpte.lo & 0x80 ? 2 : 1;
  return { kind: "translate", event, sid, iova, slpte, level, mask: levelMask(level), did, derived: true };
}

function context(f: Map<string, string>): ContextLine {
  const bus = hexField(f, "bus", 8).lo;
  const devfn = hexField(f, "devfn", 8).lo;
  const high = hexField(f, "high");
  const low = hexField(f, "low");
  const genText = f.get("gen")!;
  const g = /^[0-9a-fA-F]+/.exec(genText);
  if (!g) throw new MalformedLine(`field "gen" must be a number (got ${JSON.stringify(genText)})`);
  const gen = parseInt(g[0].slice(-4), 16) & 0xffff;
  return { kind: "context", sid: (bus << 8) | devfn, high, low, gen, did: (high.lo >>> 8) & 0xffff };
}

function walk(f: Map<string, string>): WalkLine {
  const high = hexField(f, "high");
  const level = hexField(f, "level", 8).lo;
  if (level < 1 || level > 5) {
    throw new MalformedLine(`field "level" must be a page-table level 1..5 (got ${f.get("level")})`);
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

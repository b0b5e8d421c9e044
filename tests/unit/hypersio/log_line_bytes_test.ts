import assert from "node:assert/strict";
import { GlibcRandom } from "../../../lib/hypersio/glibc_rand.ts";
import { decodeLine } from "../../../lib/hypersio/line_reader.ts";
import { parseLogLine } from "../../../lib/hypersio/log_line.ts";
import {
  fieldsOf,
  LINE_CONTEXT,
  LINE_FALLBACK,
  LINE_IGNORED,
  LINE_WALK,
  LineFields,
  parseLogBytes,
} from "../../../lib/hypersio/log_line_bytes.ts";
import { syntheticLogLines } from "../../../lib/hypersio/synthetic_log.ts";
import { line } from "./_fixtures.ts";

const enc = new TextEncoder();
const rng = new GlibcRandom(77);
const ALPHABET = " 0x1fFzvtd_iotlbpageupdatehitccslptefetchsidiovapmasklevelaoindbusdevfnhighlowgen->@:.\t\r\u00e9";

/** The fields parseLogBytes fills for `kind`, for comparison. */
function fieldsFor(kind: number, f: LineFields): Record<string, unknown> {
  if (kind === LINE_CONTEXT) {
    return { sid: f.sid, did: f.did, high: [f.highHi, f.highLo], low: [f.lowHi, f.lowLo], gen: f.gen };
  }
  if (kind === LINE_WALK) {
    return {
      did: f.did,
      high: [f.highHi, f.highLo],
      low: [f.lowHi, f.lowLo],
      iova: [f.iovaHi, f.iovaLo],
      level: f.level,
      addr: [f.addrHi, f.addrLo],
      slpte: [f.slpteHi, f.slpteLo],
    };
  }
  return {
    sid: f.sid,
    did: f.did,
    iova: [f.iovaHi, f.iovaLo],
    slpte: [f.slpteHi, f.slpteLo],
    mask: [f.maskHi, f.maskLo],
    level: f.level,
    derived: f.derived,
  };
}

/**
 * Parses `text` as the middle line of a buffer (so the start is not 0 and another line follows) with the given line
 * ending, checks the bounds it reports, and compares its answer with parseLogLine's. Returns the byte parser's kind.
 */
function differential(text: string, ending: "\n" | "\r\n"): number {
  const before = enc.encode("4242@1:vtd_iotlb_page_hit sid 0x10\n"), body = enc.encode(text);
  const buf = new Uint8Array([...before, ...body, ...enc.encode(ending), ...enc.encode("next line sid 0x1\n")]);
  const f = new LineFields(), start = before.length;
  const kind = parseLogBytes(buf, start, f);
  const strippedCr = ending === "\n" && body.at(-1) === 13 ? 1 : 0;
  const where = JSON.stringify(text) + JSON.stringify(ending);
  assert.equal(f.lineEnd, start + body.length - strippedCr, `lineEnd of ${where}`);
  assert.equal(f.next, start + body.length + ending.length, `next of ${where}`);
  const decoded = decodeLine(buf, start, f.lineEnd, 2);
  let expected: ReturnType<typeof parseLogLine> | "throws";
  try {
    expected = parseLogLine(decoded);
  } catch {
    expected = "throws";
  }
  if (kind === LINE_FALLBACK) return kind;
  assert.notEqual(expected, "throws", `byte parser accepted a line parseLogLine rejects: ${where}`);
  if (kind === LINE_IGNORED) {
    assert.equal(expected, null, `byte parser ignored an event line: ${where}`);
    return kind;
  }
  const g = new LineFields();
  assert.equal(fieldsOf(expected as Exclude<typeof expected, "throws">, g), kind, `kind of ${where}`);
  assert.deepEqual(fieldsFor(kind, f), fieldsFor(kind, g), `fields of ${where}`);
  return kind;
}

const seeds = [
  line.cc(0x10, 5),
  line.cc(0x18, 0x7f, "12345 -> gen 12346"),
  line.update(0x10, 0x1000, 5),
  line.update(0x18, 0x40000000, 6, 2),
  line.hit(0x10, 0x1000, 5),
  line.hit(0x10, 0x200000, 5, "0xffffffffffe00000"),
  line.hit(0x10, 0x40000000, 5, "0xffffffffc0000000"),
  line.walk(5, 0x1000, 3, 0xe0000),
  "4242@1590000000.000013:vtd_iotlb_page_update IOTLB page update sid 0x20 iova 0xfedcba9876543210 slpte 0x8000000e22201083 domain 0xffff",
  "4242@1590000000.000014:vtd_iotlb_page_hit IOTLB page hit sid 0x20 iova 0x000000010201600 slpte 0xe22201003 domain 0x3",
  "4242@1590000000.000015:vtd_reg_write_addr addr 0x20 value 0x1",
  "",
  "qemu-system-x86_64: warning: host doesn't support requested feature",
];

Deno.test("byte parser: every well-formed line takes the fast path and equals parseLogLine", () => {
  const lines = [
    ...seeds,
    ...syntheticLogLines({ devices: 3, translationsPerDevice: 40, seed: 5 }),
    ...syntheticLogLines({ devices: 3, translationsPerDevice: 40, seed: 6, stock: true }),
  ];
  let events = 0;
  for (const text of lines) {
    for (const ending of ["\n", "\r\n"] as const) {
      const kind = differential(text, ending);
      assert.notEqual(kind, LINE_FALLBACK, `well-formed line left to the slow path: ${JSON.stringify(text)}`);
      if (kind > 0) events++;
    }
  }
  assert.ok(events > 400, `${events} events`);
});

Deno.test("byte parser: mutated, truncated and padded lines agree with parseLogLine or fall back", () => {
  const counts = new Map<number, number>();
  const variants: ((s: string) => string)[] = [
    (s) => s.split("").map((c) => (rng.rand() % 10 === 0 ? ALPHABET[rng.rand() % ALPHABET.length] : c)).join(""),
    (s) => s.slice(0, rng.rand() % (s.length + 1)),
    (s) => s.replace(/ /g, () => (rng.rand() % 6 === 0 ? ["  ", "\t", " \r "][rng.rand() % 3] : " ")),
    (s) => s + [" sid 0x10", " bus 0x0", " high 0x1", " x", "\r", " domain 0x1"][rng.rand() % 6],
    (s) => ["vtd_x ", "sid 0x10 ", "é ", "\uFEFF"][rng.rand() % 4] + s,
    (s) => s.replace(/0x[0-9a-f]+/g, (m) => (rng.rand() % 4 === 0 ? "0x" + "f".repeat(rng.rand() % 20) : m)),
    (s) => s.replace(/0x/g, () => ["0x", "0X", "0", "x"][rng.rand() % 4]),
    (s) => s.replace(/0x[0-9a-f]+/g, (m) => (rng.rand() % 3 ? m : `0x1${"0".repeat(7 + rng.rand() % 3)}5`)),
    (s) => s.replace(/(level|bus|devfn|sid|domain) 0x[0-9a-f]+/g, (_, k) => `${k} 0x${(rng.rand() % 7).toString(16)}`),
    (s) =>
      s.replace(
        /(level|bus|devfn|sid|domain) 0x[0-9a-f]+/g,
        (_, k) => `${k} 0x${(0xf0 + rng.rand() % 0x30).toString(16)}`,
      ),
    () => new TextDecoder().decode(Uint8Array.from({ length: rng.rand() % 100 }, () => rng.rand() & 0xff)),
  ];
  for (let i = 0; i < 12000; i++) {
    const text = variants[i % variants.length](seeds[rng.rand() % seeds.length]).replace(/\n/g, " ");
    const kind = differential(text, i % 3 === 0 ? "\r\n" : "\n");
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  // Both outcomes must occur, or the comparison proved little.
  assert.ok((counts.get(LINE_FALLBACK) ?? 0) > 500, `fallbacks: ${[...counts]}`);
  assert.ok([1, 2, 3, 4].every((k) => (counts.get(k) ?? 0) > 100), `kinds: ${[...counts]}`);
});

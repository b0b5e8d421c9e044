import assert from "node:assert/strict";
import { MalformedLine, parseLogLine } from "../../../lib/hypersio/log_line.ts";
import { readCcFile, readIotlbFile, readSlptFile } from "../../../lib/hypersio/trace_format.ts";
import { runModel } from "../../../lib/hypersio/model.ts";
import { GlibcRandom } from "../../../lib/hypersio/glibc_rand.ts";
import { HyperlabError } from "../../../lib/core/errors.ts";
import { tempDir } from "../../_helpers.ts";
import { line } from "./_fixtures.ts";

const rng = new GlibcRandom(2026);
const byte = () => rng.rand() & 0xff;
const ALPHABET = " 0x1fzvtd_iotlbpageupdatehitccslptefetchsidiovapmasklevelaoindbusdevfnhighlowgen->@:.\t";

Deno.test("fuzz: the log parser returns an event, null or a MalformedLine for random and mutated lines", () => {
  const seeds = [
    line.cc(0x10, 5),
    line.update(0x10, 0x1000, 5),
    line.hit(0x10, 0x1000, 5),
    line.walk(5, 0x1000, 3, 0xe0000),
  ];
  let events = 0, malformed = 0;
  for (let i = 0; i < 4000; i++) {
    let s: string;
    if (i % 2) {
      s = seeds[i % 4].split("").map((c) => rng.rand() % 12 === 0 ? ALPHABET[rng.rand() % ALPHABET.length] : c).join(
        "",
      );
    } else {
      s = new TextDecoder().decode(Uint8Array.from({ length: rng.rand() % 120 }, byte));
      if (i % 4 === 0) s = "vtd_iotlb_page_update " + s;
    }
    try {
      if (parseLogLine(s)) events++;
    } catch (e) {
      assert.ok(e instanceof MalformedLine, `unexpected ${e} for ${JSON.stringify(s)}`);
      assert.ok(e.reason.length > 10);
      malformed++;
    }
  }
  assert.ok(events > 0 && malformed > 0, `${events} events, ${malformed} malformed`);
});

Deno.test("fuzz: trace readers and the model reject random files with HyperlabErrors only", () => {
  using d = tempDir();
  const path = `${d.path}/f.bin`;
  let loaded = 0, rejected = 0;
  for (let i = 0; i < 300; i++) {
    const len = i % 3 === 0 ? 48 * (1 + rng.rand() % 6) : rng.rand() % 400;
    const b = Uint8Array.from({ length: len }, byte);
    if (i % 2) { for (let o = 0; o + 48 <= len; o += 48) b.set([1, 0, 0, 0], o); // valid type, random fields
     }
    Deno.writeFileSync(path, b);
    for (
      const read of [
        () => [...readIotlbFile(path)],
        () => [...readCcFile(path)],
        () => [...readSlptFile(path)],
        () => runModel(path),
      ]
    ) {
      try {
        read();
        loaded++;
      } catch (e) {
        assert.ok(e instanceof HyperlabError, `unexpected ${e}`);
        rejected++;
      }
    }
  }
  assert.ok(loaded > 0 && rejected > 0, `${loaded} loaded, ${rejected} rejected`);
});

import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { forEachLine, forEachLineChunk } from "../../../lib/hypersio/line_reader.ts";
import { tempDir } from "../../_helpers.ts";

const TEXT = "\uFEFFfirst line\r\n\nsecond é line with ünïcode\r\nx\rmiddle\n\r\nlast without newline\r";

/** What a reader should report: split on \n, one trailing \r stripped, no line after a final newline. */
function expectedLines(text: string): string[] {
  const parts = text.replace(/^\uFEFF/, "").split("\n");
  if (parts.at(-1) === "") parts.pop();
  return parts.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

Deno.test("line reader: lines across chunk boundaries, CRLF, a BOM, multi-byte characters and no final newline", async () => {
  using d = tempDir();
  const path = `${d.path}/log.txt`;
  for (const text of [TEXT, TEXT + "\n", "", "\n", "one", "a\nb\n"]) {
    Deno.writeTextFileSync(path, text);
    for (const chunkBytes of [1, 3, 7, 64, 1 << 18]) {
      const lines: string[] = [];
      const stat = await forEachLine(path, (l, n) => {
        assert.equal(n, lines.length + 1);
        lines.push(l);
      }, { chunkBytes });
      assert.deepEqual(lines, expectedLines(text), `${JSON.stringify(text)} in ${chunkBytes} B chunks`);
      assert.equal(stat.lines, lines.length);
      assert.equal(stat.bytes, new TextEncoder().encode(text).length);

      // Chunks hold whole lines ending in \n; together they are the file (plus a final \n if it lacked one).
      const parts: Uint8Array[] = [];
      await forEachLineChunk(path, (buf, s, e) => {
        assert.equal(buf[e - 1], 10);
        parts.push(buf.slice(s, e));
      }, { chunkBytes });
      const joined = new TextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array(parts.flatMap((p) => [...p])));
      assert.equal(joined, text === "" || text.endsWith("\n") ? text : text + "\n");
    }
  }
});

Deno.test("line reader: a line longer than the limit is refused with the file and line, and abort stops it", async () => {
  using d = tempDir();
  const path = `${d.path}/long.txt`;
  Deno.writeTextFileSync(path, "short\n" + "x".repeat(5000) + "\nafter\n");
  await assert.rejects(
    () => forEachLine(path, () => {}, { chunkBytes: 256, maxLineBytes: 1024 }),
    (e: unknown) => e instanceof InputError && e.field === path && /at most 1024 bytes/.test(e.message),
  );
  const seen: string[] = [];
  await forEachLine(path, (l) => seen.push(l), { chunkBytes: 256, maxLineBytes: 8192 });
  assert.deepEqual(seen.map((l) => l.length), [5, 5000, 5]);

  const ac = new AbortController();
  ac.abort(new Error("stop"));
  await assert.rejects(() => forEachLine(path, () => {}, { signal: ac.signal }), /stop/);
});

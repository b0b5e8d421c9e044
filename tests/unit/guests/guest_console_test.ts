import assert from "node:assert/strict";
import { join } from "node:path";
import { TimeoutError } from "../../../lib/core/errors.ts";
import { GuestConsole } from "../../../lib/lab/guest_console.ts";
import { tempDir } from "../../_helpers.ts";

function feed(): { stream: ReadableStream<Uint8Array>; push: (s: string) => void; end: () => void } {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  return { stream, push: (s) => ctrl.enqueue(new TextEncoder().encode(s)), end: () => ctrl.close() };
}

Deno.test("console: lines go to the file and the line callback; waitFor sees output arriving later", async () => {
  using dir = tempDir();
  const f = feed();
  const lines: string[] = [];
  const c = new GuestConsole(f.stream, join(dir.path, "console.log"), (l) => lines.push(l));
  f.push("booting\r\n");
  const waiting = c.waitFor(/ready (\d+)/, { timeoutMs: 2000 });
  setTimeout(() => f.push("ready 42\nrest"), 20);
  const m = await waiting;
  assert.equal(m[1], "42");
  f.end();
  await c.done;
  assert.deepEqual(lines, ["booting", "ready 42", "rest"]);
  assert.equal(await Deno.readTextFile(join(dir.path, "console.log")), "booting\r\nready 42\nrest");
});

Deno.test("console: `since` ignores earlier output; a timeout carries the console tail", async () => {
  using dir = tempDir();
  const f = feed();
  const c = new GuestConsole(f.stream, join(dir.path, "c.log"));
  f.push("marker\nkernel: something went wrong\n");
  await c.waitFor(/marker/);
  const mark = c.mark();
  await assert.rejects(c.waitFor(/marker/, { since: mark, timeoutMs: 100 }), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.match(e.message, /timed out after 100 ms/);
    assert.match(e.message, /something went wrong/);
    return true;
  });
  f.end();
  await c.done;
});

Deno.test("console: a console that ends without the pattern fails at once, an abort signal wins", async () => {
  using dir = tempDir();
  const f = feed();
  const c = new GuestConsole(f.stream, join(dir.path, "c.log"));
  const ac = new AbortController();
  const aborted = c.waitFor(/never/, { timeoutMs: 5000, abort: ac.signal });
  ac.abort(new Error("qemu died"));
  await assert.rejects(aborted, /qemu died/);
  f.push("last words\n");
  const ended = c.waitFor(/never/, { timeoutMs: 5000 });
  f.end();
  await assert.rejects(ended, /console ended; tail:\nlast words/);
});

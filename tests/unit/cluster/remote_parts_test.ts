import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError, TimeoutError } from "../../../lib/core/errors.ts";
import { OutputCapture } from "../../../lib/remote/output.ts";
import { KnownHosts, knownHostsName, waitFor } from "../../../lib/remote/mod.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("output: a flood keeps only the tail, counts everything, logs a bounded number of lines", () => {
  const lines: string[] = [];
  const cap = new OutputCapture({ maxBytes: 1000, maxLines: 5, onLine: (l) => lines.push(l) });
  const chunk = new TextEncoder().encode("0123456789abcdefghi\n".repeat(100)); // 2000 bytes, 100 lines
  for (let i = 0; i < 500; i++) cap.push(chunk);
  cap.push(new TextEncoder().encode("last line"));
  cap.end();
  assert.equal(cap.totalBytes, 500 * 2000 + 9);
  assert.equal(cap.totalLines, 50_000);
  const text = cap.text();
  assert.ok(text.length < 1000 + 2000 + 100, `kept ${text.length} chars`);
  assert.ok(text.endsWith("last line"));
  assert.match(text, /^\[\d+ bytes dropped\]/);
  assert.equal(lines.length, 6);
  assert.match(lines[5], /49996 more lines not logged/);
});

Deno.test("output: partial lines across chunks and long lines", () => {
  const lines: string[] = [];
  const cap = new OutputCapture({ maxLineLength: 10, onLine: (l) => lines.push(l) });
  for (const p of ["he", "llo\nwor", "ld\r\n", "x".repeat(25), "\n"]) cap.push(new TextEncoder().encode(p));
  cap.end();
  assert.deepEqual(lines, ["hello", "world", "xxxxxxxxxx [line truncated]"]);
});

Deno.test("known_hosts: plain, [host]:port, hashed, wildcard, negation, revoked", () => {
  using dir = tempDir();
  const keyA = new Uint8Array([0, 0, 0, 11, ...new TextEncoder().encode("ssh-ed25519"), 1, 2, 3]);
  const keyB = new Uint8Array([0, 0, 0, 11, ...new TextEncoder().encode("ssh-ed25519"), 9, 9, 9]);
  const a = Buffer.from(keyA).toString("base64"), b = Buffer.from(keyB).toString("base64");
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update("[h3]:2222").digest("base64")}`;
  const f = join(dir.path, "known_hosts");
  writeFileSync(
    f,
    [
      `# comment`,
      `h1,10.0.0.1 ssh-ed25519 ${a}`,
      `[h2]:2200 ssh-ed25519 ${a}`,
      `${hashed} ssh-ed25519 ${b}`,
      `*.lab,!bad.lab ssh-ed25519 ${a}`,
      `@revoked * ssh-ed25519 ${b}`,
    ]
      .join("\n"),
  );
  const kh = new KnownHosts(f);
  assert.equal(knownHostsName("h", 22), "h");
  assert.equal(knownHostsName("h", 2200), "[h]:2200");
  assert.equal(kh.check("h1", 22, keyA), "match");
  assert.equal(kh.check("10.0.0.1", 22, keyA), "match");
  assert.equal(kh.check("h1", 2200, keyA), "unknown");
  assert.equal(kh.check("h2", 2200, keyA), "match");
  assert.equal(kh.check("x.lab", 22, keyA), "match");
  assert.equal(kh.check("bad.lab", 22, keyA), "unknown");
  assert.equal(kh.check("h3", 2222, keyB), "revoked");
  const keyC = new Uint8Array([0, 0, 0, 11, ...new TextEncoder().encode("ssh-ed25519"), 7]);
  assert.equal(kh.check("h1", 22, keyC), "mismatch");
  assert.deepEqual(kh.keyTypes("h1", 22), ["ssh-ed25519"]);
  kh.add("new", 2022, keyC);
  assert.equal(new KnownHosts(f).check("new", 2022, keyC), "match");
});

Deno.test("waitFor: returns the value, times out naming what and the last error, validates options", async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && "ready", { timeout: 2000, interval: 5 }), "ready");
  const t0 = performance.now();
  await assert.rejects(
    () =>
      waitFor(() => Promise.reject(new Error("still booting")), { timeout: 150, interval: 20, what: "boot marker" }),
    (e: unknown) => e instanceof TimeoutError && /boot marker/.test(e.message) && /still booting/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 1000);
  await assert.rejects(() => waitFor(() => true, { timeout: 0 }), InputError);
  await assert.rejects(() => waitFor(() => true, { timeout: 10, interval: -1 }), InputError);
});

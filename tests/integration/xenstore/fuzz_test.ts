/**
 * Malformed and oversized packets against the embedded xenstored: each gets an error reply or a closed connection,
 * the daemon keeps serving, and a well-behaved client still works afterwards. Seeded, so failures reproduce.
 */
import assert from "node:assert/strict";
import { XsWireClient } from "../../../lib/xenstore/mod.ts";
import { encodeMessage, HEADER_SIZE, XsType } from "../../../lib/xenstore/wire.ts";
import { startDaemon } from "./_daemon.ts";

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends raw bytes on a fresh connection and collects whatever comes back until close or a short quiet time. */
async function exchange(
  socket: string,
  data: Uint8Array,
  quietMs = 30,
  splitAt = -1,
): Promise<{ reply: Uint8Array; closed: boolean }> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    if (splitAt > 0 && splitAt < data.length) {
      await conn.write(data.subarray(0, splitAt)).catch(() => 0);
      await new Promise((r) => setTimeout(r, 1));
      await conn.write(data.subarray(splitAt)).catch(() => 0);
    } else await conn.write(data).catch(() => 0);
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    let closed = false;
    while (true) {
      const timer = new Promise<"quiet">((r) => setTimeout(() => r("quiet"), quietMs));
      const got = await Promise.race([conn.read(buf).catch(() => null), timer]);
      if (got === "quiet") break;
      if (got === null) {
        closed = true;
        break;
      }
      chunks.push(buf.slice(0, got));
    }
    const reply = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of chunks) reply.set(c, (o += c.length) - c.length);
    return { reply, closed };
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("fuzz: oversized length field closes the connection; daemon survives", async () => {
  await using f = await startDaemon();
  const header = encodeMessage(XsType.READ, 1, 0, new Uint8Array());
  new DataView(header.buffer).setUint32(12, 4097, true);
  const r = await exchange(f.socket, header);
  assert.equal(r.closed, true);
  assert.equal(r.reply.length, 0);
  assert.equal(f.daemon.stats().protocolErrors, 1);
  await using ok = await XsWireClient.connect(f.socket);
  await ok.write("/still", "alive");
  assert.equal(await ok.read("/still"), "alive");
});

Deno.test("fuzz: known bad requests get XS_ERROR with the errno name", async () => {
  await using f = await startDaemon();
  const cases: [number, Uint8Array, string][] = [
    [XsType.READ, new TextEncoder().encode("/no-nul"), "EINVAL"],
    [XsType.READ, new Uint8Array(), "EINVAL"],
    [XsType.WRITE, new TextEncoder().encode("/no-separator"), "EINVAL"],
    [XsType.READ, new TextEncoder().encode("/bad path\0"), "EINVAL"],
    [XsType.WATCH, new TextEncoder().encode("/only-path\0"), "EINVAL"],
    [XsType.TRANSACTION_END, new TextEncoder().encode("X\0"), "EINVAL"],
    [XsType.SET_PERMS, new TextEncoder().encode("/\0q7\0"), "EINVAL"],
    [XsType.GET_DOMAIN_PATH, new TextEncoder().encode("abc\0"), "EINVAL"],
    [XsType.RM, new TextEncoder().encode("/\0"), "EINVAL"],
    [999, new Uint8Array(), "EINVAL"],
    [XsType.ERROR, new Uint8Array(), "EINVAL"],
    [XsType.SET_TARGET, new TextEncoder().encode("1\x002\x00"), "ENOSYS"],
  ];
  for (const [type, payload, errno] of cases) {
    const r = await exchange(f.socket, encodeMessage(type, 42, 0, payload));
    assert.equal(r.closed, false, `type ${type}`);
    const dv = new DataView(r.reply.buffer);
    assert.equal(dv.getUint32(0, true), XsType.ERROR, `type ${type} → error reply`);
    assert.equal(dv.getUint32(4, true), 42, "req_id echoed");
    assert.equal(new TextDecoder().decode(r.reply.subarray(HEADER_SIZE)), `${errno}\0`, `type ${type}`);
  }
});

Deno.test("fuzz: 400 random packets (random types, lengths, bytes, split writes) never take the daemon down", async () => {
  await using f = await startDaemon();
  const rand = rng(0x5eed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const words = [
    "/",
    "/a",
    "/a/b",
    "@introduceDomain",
    "rel",
    "",
    "T",
    "F",
    "0",
    "b0",
    "r99999",
    "//",
    "/a/",
    "\u00e9",
  ];
  for (let i = 0; i < 400; i++) {
    const mode = rand();
    let data: Uint8Array;
    if (mode < 0.3) {
      data = new Uint8Array(Math.floor(rand() * 64));
      for (let j = 0; j < data.length; j++) data[j] = Math.floor(rand() * 256);
    } else {
      const parts = Array.from({ length: Math.floor(rand() * 4) }, () => pick(words));
      let payload = new TextEncoder().encode(parts.join("\0") + (rand() < 0.7 ? "\0" : ""));
      if (rand() < 0.05) payload = new Uint8Array(4096).fill(0x61);
      data = encodeMessage(Math.floor(rand() * 26), i, rand() < 0.2 ? Math.floor(rand() * 5) : 0, payload);
      if (rand() < 0.15) new DataView(data.buffer).setUint32(12, Math.floor(rand() * 0xffffffff), true);
    }
    await exchange(f.socket, data, 2, rand() < 0.3 ? Math.floor(rand() * data.length) : -1);
  }
  await using ok = await XsWireClient.connect(f.socket);
  await ok.write("/after/fuzz", "ok");
  assert.equal(await ok.read("/after/fuzz"), "ok");
  assert.equal(f.daemon.stats().internalErrors, 0, "no request hit a daemon bug");
  assert.ok(f.daemon.stats().requests > 200, "most packets were parsed as requests");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(f.daemon.stats().connections, 1, "every fuzz connection was cleaned up");
});

Deno.test("a client that never reads its replies is disconnected at the backlog limit; others are unaffected", async () => {
  await using f = await startDaemon(undefined, { maxOutputBacklog: 64 << 10 });
  const d = f.daemon;
  await using ok = await XsWireClient.connect(f.socket);
  await ok.write("/v", "x".repeat(4000));
  const greedy = await Deno.connect({ transport: "unix", path: f.socket });
  try {
    const req = encodeMessage(XsType.READ, 1, 0, new TextEncoder().encode("/v\0"));
    const burst = new Uint8Array(req.length * 500);
    for (let i = 0; i < 500; i++) burst.set(req, i * req.length);
    for (let round = 0; round < 20 && d.stats().protocolErrors === 0; round++) {
      await greedy.write(burst).catch(() => 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(d.stats().protocolErrors, 1, "greedy client dropped");
    assert.equal(await ok.read("/v"), "x".repeat(4000));
  } finally {
    greedy.close();
  }
});

/**
 * Runs INSIDE the Xen lab host's dom0: the `xenstore` benchmark's measurements against Xen's own xenstored (C,
 * /run/xenstored/socket) — READ round trips per second through our libxenstore shim (sync and nonblocking FFI),
 * WRITEs, the pure-TS wire client, watch-event latency, and Debian's xenstore-read CLI per process as the in-dom0
 * reference. Under TCG these are slow: compare ratios, not speeds. Prints `HYPERLAB_XSBENCH <json>`.
 * Usage: `_dom0_xsbench.ts PHASE_MS WATCH_SAMPLES CLI_CALLS`.
 */
import { LibXenstoreClient, XsWireClient } from "../../../lib/xenstore/mod.ts";

const [phaseMs, samples, cliCalls] = Deno.args.map(Number);
const SOCKET = "/run/xenstored/socket";

async function rate(ms: number, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await op(i);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) await op(n++);
  return n / ((performance.now() - t0) / 1000);
}

function p(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((q / 100) * s.length))];
}

const shim = await LibXenstoreClient.open(SOCKET);
const watcher = await LibXenstoreClient.open(SOCKET);
const wire = await XsWireClient.connect(SOCKET);
await shim.write("/bench/key", "value-of-some-length");
const syncRead = await rate(phaseMs, () => shim.readSync("/bench/key"));
const asyncRead = await rate(phaseMs, () => shim.read("/bench/key"));
const asyncWrite = await rate(phaseMs, (i) => shim.write("/bench/w", String(i)));
const wireRead = await rate(phaseMs, () => wire.read("/bench/key"));
await watcher.watch("/bench/watched", "bench");
await watcher.nextEvent(5000);
const lat: number[] = [];
for (let i = 0; i < samples; i++) {
  const t0 = performance.now();
  const ev = watcher.nextEvent(5000);
  await wire.write("/bench/watched/x", String(i));
  if (!await ev) throw new Error(`watch event ${i} did not arrive within 5 s`);
  lat.push(performance.now() - t0);
}
const cli: number[] = [];
for (let i = 0; i < cliCalls; i++) {
  const t0 = performance.now();
  const out = await new Deno.Command("xenstore-read", { args: ["/bench/key"], stdout: "piped", stderr: "null" })
    .output();
  if (!out.success) throw new Error("xenstore-read failed in dom0");
  cli.push(performance.now() - t0);
}
await shim.rm("/bench");
for (const c of [shim, watcher, wire]) await c.close();
console.log(`HYPERLAB_XSBENCH ${
  JSON.stringify({
    syncRead,
    asyncRead,
    asyncWrite,
    wireRead,
    watchP50: p(lat, 50),
    watchP90: p(lat, 90),
    watchP99: p(lat, 99),
    cliMs: p(cli, 50),
  })
}`);

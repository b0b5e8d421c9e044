/** Quickstart probe: a remote-memory server on loopback (TCP transport) and 4 KiB write/read round trips. */
import { RmemClient, RmemServer } from "../../lib/rmem/mod.ts";

/** p50 latency (µs) of 4 KiB remote writes and reads, and whether every byte came back. */
export async function rmemLatency(n: number): Promise<{ writeP50Us: number; readP50Us: number; intact: boolean }> {
  await using server = RmemServer.start({ poolBytes: 16 * 2 ** 20, host: "127.0.0.1", port: 0 });
  await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 8 * 2 ** 20 });
  const region = client.alloc(4096);
  const page = crypto.getRandomValues(new Uint8Array(4096));
  const w: number[] = [];
  const r: number[] = [];
  let intact = true;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.write(region, 0, page);
    const t1 = performance.now();
    const back = await client.read(region, 0, 4096);
    r.push(performance.now() - t1);
    w.push(t1 - t0);
    if (i === n - 1) intact = back.every((b, j) => b === page[j]);
  }
  const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] * 1000;
  return { writeP50Us: p50(w), readP50Us: p50(r), intact };
}

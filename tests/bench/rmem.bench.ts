/**
 * rmem over TCP on loopback vs the floor: a raw TCP request/response of the same size through the same Deno socket
 * API (a server that only frames bytes, no pool, keys or bounds). Both servers run as separate processes.
 * Latency is measured one request at a time (p50, p99); throughput with 32 requests in flight, with merging off
 * and on (the deck's comparison; adjacent 4 KiB requests). Target: rmem p50 within 1.5× of the floor.
 *
 * Placement: with two or more CPUs, both servers run on CPU 1 and this client on CPU 0, so every request crosses
 * CPUs for both sides alike, as it would between nodes. Unpinned, whether the scheduler happened to put a client
 * and its server on the same CPU swung one-at-a-time p50s between ~15 and ~80 µs on this 2-vCPU VM (a halted vCPU
 * is slow to wake), for the floor and rmem independently.
 */
import { RmemClient, startServerProcess } from "../../lib/rmem/mod.ts";
import { cpuCount, pinProcess } from "./_cpu_pin.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

const SIZE = 4096;
const REQ = 32;
const REP = 16;

/** The floor server: reads 32-byte requests (+4096 bytes when byte 4 is 3 = write), answers 16 (+4096) bytes. */
const FLOOR_SERVER = `
const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(JSON.stringify({ port: l.addr.port }));
for await (const c of l) (async () => {
  c.setNoDelay(true);
  const buf = new Uint8Array(1 << 20); let len = 0;
  const readReply = new Uint8Array(${REP + SIZE}), writeReply = new Uint8Array(${REP});
  try {
    while (true) {
      const n = await c.read(buf.subarray(len)); if (n === null) break; len += n;
      let off = 0; const outs = [];
      while (len - off >= ${REQ}) {
        const isWrite = buf[off + 4] === 3, need = ${REQ} + (isWrite ? ${SIZE} : 0);
        if (len - off < need) break;
        outs.push(isWrite ? writeReply : readReply); off += need;
      }
      buf.copyWithin(0, off, len); len -= off;
      if (outs.length) {
        const total = outs.reduce((s, o) => s + o.length, 0), out = new Uint8Array(total); let at = 0;
        for (const o of outs) { out.set(o, at); at += o.length; }
        let w = 0; while (w < total) w += await c.write(out.subarray(w));
      }
    }
  } catch {} finally { try { c.close(); } catch {} }
})();
`;

interface FloorClient {
  request(write: boolean): Promise<void>;
  close(): void;
}

async function floorClient(port: number): Promise<FloorClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const waiting: { need: number; resolve: () => void }[] = [];
  const writeReq = new Uint8Array(REQ + SIZE);
  writeReq[4] = 3;
  const readReq = new Uint8Array(REQ);
  readReq[4] = 2;
  (async () => {
    const buf = new Uint8Array(1 << 20);
    let have = 0;
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      have += n;
      while (waiting.length && have >= waiting[0].need) {
        const w = waiting.shift()!;
        have -= w.need;
        w.resolve();
      }
    }
  })();
  let sending = Promise.resolve();
  return {
    request(write: boolean) {
      const req = write ? writeReq : readReq;
      return new Promise<void>((resolve) => {
        waiting.push({ need: write ? REP : REP + SIZE, resolve });
        sending = sending.then(async () => {
          let off = 0;
          while (off < req.length) off += await conn.write(req.subarray(off));
        });
      });
    },
    close: () => conn.close(),
  };
}

async function latency(op: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op();
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

async function throughput(op: (i: number) => Promise<unknown>, n: number, depth: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: depth }, async () => {
    while (next < n) await op(next++);
  }));
  return n / ((performance.now() - t) / 1000);
}

const bench: Bench = {
  name: "rmem",
  description: "rmem 4 KiB read/write latency and throughput over TCP vs a raw TCP request/response (floor)",
  async run(args: string[]) {
    const quick = args.includes("--quick");
    // short interleaved rounds, so that both sides see the same noise from other work on a shared machine
    const LAT = 250, LAT_ROUNDS = quick ? 4 : 16, TPUT = quick ? 5000 : 20000, DEPTH = 32, ROUNDS = quick ? 1 : 3;

    await using server = await startServerProcess({ pool: "256M" });
    const floorProc = new Deno.Command(Deno.execPath(), { args: ["eval", FLOOR_SERVER], stdout: "piped" }).spawn();
    try {
      const reader = floorProc.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const { port } = JSON.parse((await reader.read()).value!);
      reader.releaseLock();
      floorProc.stdout.cancel().catch(() => {});

      let placement = "unpinned (one CPU)";
      if (cpuCount() >= 2) {
        const pinned = await pinProcess(server.pid, "1") && await pinProcess(floorProc.pid, "1") &&
          await pinProcess(Deno.pid, "0");
        placement = pinned ? "servers on CPU 1, client on CPU 0" : "unpinned (taskset failed)";
      }
      console.log(`placement: ${placement}`);
      const floor = await floorClient(port);
      await using plain = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 64 << 20 });
      await using merged = await RmemClient.connect({
        servers: [server.endpoint],
        bytesPerServer: 64 << 20,
        merge: true,
      });
      const regionsOf = (c: RmemClient) => Array.from({ length: 1024 }, () => c.alloc(SIZE));
      const rp = regionsOf(plain), rm = regionsOf(merged);
      const page = new Uint8Array(SIZE).fill(0x5c);
      for (const r of rp) await plain.write(r, 0, page);
      for (const r of rm) await merged.write(r, 0, page);

      const s = {
        floorRead: [] as number[],
        floorWrite: [] as number[],
        rmemRead: [] as number[],
        rmemWrite: [] as number[],
      };
      const tput = {
        floorRead: [] as number[],
        floorWrite: [] as number[],
        rmemRead: [] as number[],
        rmemWrite: [] as number[],
        mergeRead: [] as number[],
        mergeWrite: [] as number[],
      };
      let k = 0;
      const nextRegion = () => rp[k = (k * 7 + 13) % rp.length]; // scattered, never adjacent
      await latency(() => floor.request(false), 300);
      await latency(() => plain.read(nextRegion()), 300);
      for (let round = 0; round < LAT_ROUNDS; round++) {
        s.floorRead.push(...await latency(() => floor.request(false), LAT));
        s.rmemRead.push(...await latency(() => plain.read(nextRegion()), LAT));
        s.floorWrite.push(...await latency(() => floor.request(true), LAT));
        s.rmemWrite.push(...await latency(() => plain.write(nextRegion(), 0, page), LAT));
      }
      for (let round = 0; round < ROUNDS; round++) {
        tput.floorRead.push(await throughput(() => floor.request(false), TPUT, DEPTH));
        tput.rmemRead.push(await throughput(() => plain.read(nextRegion()), TPUT, DEPTH));
        tput.mergeRead.push(await throughput((i) => merged.read(rm[i % rm.length]), TPUT, DEPTH));
        tput.floorWrite.push(await throughput(() => floor.request(true), TPUT, DEPTH));
        tput.rmemWrite.push(await throughput(() => plain.write(nextRegion(), 0, page), TPUT, DEPTH));
        tput.mergeWrite.push(await throughput((i) => merged.write(rm[i % rm.length], 0, page), TPUT, DEPTH));
      }
      floor.close();
      const med = (xs: number[]) => percentile(xs, 50);
      const mib = (ops: number) => ops * SIZE / (1 << 20);
      const p50 = (xs: number[]) => percentile(xs, 50), p99 = (xs: number[]) => percentile(xs, 99);
      const rows = [
        [
          "read 4 KiB",
          p50(s.floorRead),
          p50(s.rmemRead),
          p50(s.rmemRead) / p50(s.floorRead),
          p99(s.floorRead),
          p99(s.rmemRead),
        ],
        [
          "write 4 KiB",
          p50(s.floorWrite),
          p50(s.rmemWrite),
          p50(s.rmemWrite) / p50(s.floorWrite),
          p99(s.floorWrite),
          p99(s.rmemWrite),
        ],
      ];
      printTable(
        `latency, one request at a time (µs; ${LAT_ROUNDS} interleaved rounds × ${LAT} requests)`,
        ["op", "floor p50", "rmem p50", "ratio p50", "floor p99", "rmem p99"],
        rows,
      );
      const m = plain.usage()[0].channel, mm = merged.usage()[0].channel;
      printTable(
        `throughput, ${DEPTH} requests in flight (MiB/s; median of ${ROUNDS})`,
        ["op", "floor", "rmem", "ratio", "rmem merge on", "merge/plain"],
        [
          [
            "read 4 KiB",
            mib(med(tput.floorRead)),
            mib(med(tput.rmemRead)),
            med(tput.rmemRead) / med(tput.floorRead),
            mib(med(tput.mergeRead)),
            med(tput.mergeRead) / med(tput.rmemRead),
          ],
          [
            "write 4 KiB",
            mib(med(tput.floorWrite)),
            mib(med(tput.rmemWrite)),
            med(tput.rmemWrite) / med(tput.floorWrite),
            mib(med(tput.mergeWrite)),
            med(tput.mergeWrite) / med(tput.rmemWrite),
          ],
        ],
      );
      console.log(
        `wire requests: merge off ${m.wireRequests}/${m.requests} issued, merge on ${mm.wireRequests}/${mm.requests}`,
      );
      const readRatio = p50(s.rmemRead) / p50(s.floorRead);
      const writeRatio = p50(s.rmemWrite) / p50(s.floorWrite);
      emitResult("rmem", {
        placement,
        read_p50_us: p50(s.rmemRead),
        read_p99_us: p99(s.rmemRead),
        write_p50_us: p50(s.rmemWrite),
        write_p99_us: p99(s.rmemWrite),
        floor_read_p50_us: p50(s.floorRead),
        floor_write_p50_us: p50(s.floorWrite),
        read_mib_s: mib(med(tput.rmemRead)),
        write_mib_s: mib(med(tput.rmemWrite)),
        floor_read_mib_s: mib(med(tput.floorRead)),
        floor_write_mib_s: mib(med(tput.floorWrite)),
        merge_read_mib_s: mib(med(tput.mergeRead)),
        merge_write_mib_s: mib(med(tput.mergeWrite)),
        merge_wire_requests: mm.wireRequests,
        merge_requests: mm.requests,
      }, {
        read_p50_vs_floor: { value: readRatio, target: 1.5, op: "<=" },
        write_p50_vs_floor: { value: writeRatio, target: 1.5, op: "<=" },
      });
    } finally {
      if (cpuCount() >= 2) await pinProcess(Deno.pid, `0-${cpuCount() - 1}`);
      try {
        floorProc.kill("SIGKILL");
      } catch { /* exited */ }
      await floorProc.status;
    }
  },
};

export default bench;

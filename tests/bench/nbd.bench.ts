/**
 * NBD 4 KiB random-ish read and write IOPS from QEMU's own NBD client (`qemu-img bench`, 32 requests in flight)
 * against our NBD server, whose blocks live in an rmem server process over TCP, vs the same workload against
 * `nbdkit memory` (Debian nbdkit). qemu-img bench has no random mode, so requests stride through the image with
 * a step of 7919 blocks (odd, so the walk visits every block of the power-of-two image in scattered order).
 * Target: at least 0.7× nbdkit's IOPS, reads and writes.
 *
 * Fairness on a shared machine: both servers get the same qemu-img command (queue depth, size, stride, count) and
 * run as their own processes (ours: `lib/nbd/server_main.ts`, as `deno task nbd-server` deploys it);
 * rounds are short and interleaved, and which server goes first alternates each round, so load from other jobs
 * falls on both alike. Reported: median IOPS of each, the ratio of the medians (the target), the median and range
 * of the per-round paired ratios, and CPU time per request of every server process (steadier than IOPS when the
 * CPUs are shared).
 */
import { startServerProcess } from "../../lib/rmem/mod.ts";
import { startNbdServerProcess } from "./_nbd_server_process.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

const IMAGE = 64 << 20;
const STEP = 4096 * 7919;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on port ${port} after ${ms} ms`);
}

/** CPU time (user + system) of a process so far, in microseconds. */
function cpuMicros(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 1e6 / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Runs qemu-img bench and returns IOPS. */
async function qemuBench(url: string, count: number, write: boolean): Promise<number> {
  const args = ["bench", "-f", "raw", "-t", "none", "-c", String(count), "-d", "32", "-s", "4k", "-S", String(STEP)];
  if (write) args.push("-w", "--pattern=0x5a");
  const o = await new Deno.Command("qemu-img", { args: [...args, url], stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  const m = /Run completed in ([\d.]+) seconds/.exec(text);
  if (!o.success || !m) throw new Error(`qemu-img bench failed on ${url}: ${text.trim()}`);
  return count / Number(m[1]);
}

const bench: Bench = {
  name: "nbd",
  description: "NBD 4 KiB read/write IOPS from qemu-img bench: our rmem-backed server vs nbdkit memory",
  async run(args: string[]) {
    for (const cmd of ["qemu-img", "nbdkit"]) {
      const ok = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).output();
      if (!ok.success) {
        console.log(`SKIP: ${cmd} not installed (apt-get install ${cmd === "nbdkit" ? "nbdkit" : "qemu-utils"})`);
        return;
      }
    }
    const quick = args.includes("--quick");
    // short interleaved rounds, so that both servers see the same noise from other work on a shared machine
    const COUNT = 10000, ROUNDS = quick ? 3 : 15;

    await using mem = await startServerProcess({ pool: "256M" });
    const ours = await startNbdServerProcess(mem.endpoint, IMAGE);
    const kitPort = freePort();
    const kit = new Deno.Command("nbdkit", {
      args: ["-f", "--exit-with-parent", "-p", String(kitPort), "-i", "127.0.0.1", "memory", String(IMAGE)],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitForPort(kitPort);
      const urls = { ours: ours.url, nbdkit: `nbd://127.0.0.1:${kitPort}/` };
      // fill both images first, so reads hit written blocks on both sides
      await qemuBench(urls.ours, IMAGE / 4096, true);
      await qemuBench(urls.nbdkit, IMAGE / 4096, true);
      type Side = { iops: number[]; cpu: Record<string, number> };
      const side = (): Side => ({ iops: [], cpu: {} });
      const r = { ours: { write: side(), read: side() }, nbdkit: { write: side(), read: side() } };
      const pids = { ours: { nbd: ours.pid, rmem: mem.pid }, nbdkit: { nbdkit: kit.pid } };
      const measure = async (who: "ours" | "nbdkit", op: "write" | "read") => {
        const before = Object.entries(pids[who]).map(([k, pid]) => [k, cpuMicros(pid)] as const);
        r[who][op].iops.push(await qemuBench(urls[who], COUNT, op === "write"));
        for (const [k, t0] of before) {
          r[who][op].cpu[k] = (r[who][op].cpu[k] ?? 0) + cpuMicros(pids[who][k as never]) - t0;
        }
      };
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 ? ["nbdkit", "ours"] as const : ["ours", "nbdkit"] as const;
        for (const op of ["write", "read"] as const) for (const who of order) await measure(who, op);
      }
      const med = (xs: number[]) => percentile(xs, 50);
      const rows = (["read", "write"] as const).map((op) => {
        const o = r.ours[op].iops, k = r.nbdkit[op].iops;
        const paired = o.map((x, i) => x / k[i]);
        return { op, kit: med(k), ours: med(o), ratio: med(o) / med(k), paired, pairedMed: med(paired) };
      });
      const cpuPerReq = (s: Side) =>
        Object.entries(s.cpu).map(([k, us]) => `${k} ${(us / (COUNT * ROUNDS)).toFixed(1)}`).join(" + ");
      printTable(
        `qemu-img bench, 4 KiB, 32 in flight, ${COUNT} requests, strided (IOPS; median of ${ROUNDS} interleaved ` +
          "rounds, order alternating)",
        ["op", "nbdkit memory", "hyperlab nbd+rmem", "ratio of medians", "paired ratio: median [min, max]"],
        rows.map((x) => [
          x.op,
          x.kit,
          x.ours,
          x.ratio,
          `${x.pairedMed.toFixed(2)} [${Math.min(...x.paired).toFixed(2)}, ${Math.max(...x.paired).toFixed(2)}]`,
        ]),
      );
      for (const op of ["read", "write"] as const) {
        console.log(
          `CPU µs per ${op}: nbdkit memory: ${cpuPerReq(r.nbdkit[op])}; ours: ${cpuPerReq(r.ours[op])} ` +
            "(qemu-img's own not counted; same for both)",
        );
      }
      const [read, write] = rows;
      const u = await ours.stop();
      if (!u || u.allocated !== u.blocks || u.lost) {
        throw new Error(`not every block is in remote memory: ${JSON.stringify(u)}`);
      }
      console.log(`device: ${u.allocated}/${u.blocks} blocks in remote memory on ${mem.endpoint}`);
      console.log(
        "note: every block of ours crosses loopback twice (qemu ↔ nbd server ↔ rmem server process) on the same " +
          "CPUs; nbdkit memory serves it from its own address space. Writes are write-back (acknowledged once " +
          "queued on the memory server's ordered connection, at most 256 unacknowledged; FLUSH and FUA wait), " +
          "so a write waits for one hop and a read for two",
      );
      const cpu = (x: Side) => Object.fromEntries(Object.entries(x.cpu).map(([k, us]) => [k, us / (COUNT * ROUNDS)]));
      emitResult("nbd", {
        read_iops: read.ours,
        write_iops: write.ours,
        nbdkit_read_iops: read.kit,
        nbdkit_write_iops: write.kit,
        paired_ratio_median: { read: read.pairedMed, write: write.pairedMed },
        cpu_us_per_request: {
          ours_read: cpu(r.ours.read),
          ours_write: cpu(r.ours.write),
          nbdkit_read: cpu(r.nbdkit.read),
          nbdkit_write: cpu(r.nbdkit.write),
        },
        rounds: {
          ours_read: r.ours.read.iops,
          ours_write: r.ours.write.iops,
          nbdkit_read: r.nbdkit.read.iops,
          nbdkit_write: r.nbdkit.write.iops,
        },
      }, {
        read_iops_vs_nbdkit: { value: read.ratio, target: 0.7, op: ">=" },
        write_iops_vs_nbdkit: { value: write.ratio, target: 0.7, op: ">=" },
      });
    } finally {
      await ours.stop();
      try {
        kit.kill("SIGTERM");
      } catch { /* exited */ }
      await kit.status;
      await kit.stderr.cancel().catch(() => {});
    }
  },
};

export default bench;

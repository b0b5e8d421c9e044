/**
 * NBD 4 KiB random-ish read and write IOPS from QEMU's own NBD client (`qemu-img bench`, 32 requests in flight)
 * against our NBD server, whose blocks live in an rmem server process over TCP, vs the same workload against
 * `nbdkit memory` (Debian nbdkit). qemu-img bench has no random mode, so requests stride through the image with
 * a step of 7919 blocks (odd, so the walk visits every block of the power-of-two image in scattered order).
 * Target: at least 0.7× nbdkit's IOPS, reads and writes.
 */
import { NbdServer, RmemBlockDevice } from "../../lib/nbd/mod.ts";
import { RmemClient, startServerProcess } from "../../lib/rmem/mod.ts";
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
    const COUNT = quick ? 10000 : 20000, ROUNDS = quick ? 1 : 7;

    await using mem = await startServerProcess({ pool: "256M" });
    await using client = await RmemClient.connect({ servers: [mem.endpoint], bytesPerServer: 128 << 20 });
    const device = new RmemBlockDevice(client, IMAGE);
    await using ours = NbdServer.start({ exports: { disk: device } });
    const kitPort = freePort();
    const kit = new Deno.Command("nbdkit", {
      args: ["-f", "--exit-with-parent", "-p", String(kitPort), "-i", "127.0.0.1", "memory", String(IMAGE)],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await waitForPort(kitPort);
      const urls = { ours: ours.url("disk"), nbdkit: `nbd://127.0.0.1:${kitPort}/` };
      // fill both images first, so reads hit written blocks on both sides
      await qemuBench(urls.ours, IMAGE / 4096, true);
      await qemuBench(urls.nbdkit, IMAGE / 4096, true);
      const r = {
        oursWrite: [] as number[],
        kitWrite: [] as number[],
        oursRead: [] as number[],
        kitRead: [] as number[],
      };
      for (let round = 0; round < ROUNDS; round++) {
        r.oursWrite.push(await qemuBench(urls.ours, COUNT, true));
        r.kitWrite.push(await qemuBench(urls.nbdkit, COUNT, true));
        r.oursRead.push(await qemuBench(urls.ours, COUNT, false));
        r.kitRead.push(await qemuBench(urls.nbdkit, COUNT, false));
      }
      const med = (xs: number[]) => percentile(xs, 50);
      const read = med(r.oursRead) / med(r.kitRead), write = med(r.oursWrite) / med(r.kitWrite);
      printTable(
        `qemu-img bench, 4 KiB, 32 in flight, ${COUNT} requests, strided (IOPS; median of ${ROUNDS} interleaved rounds)`,
        ["op", "nbdkit memory", "hyperlab nbd+rmem", "ratio"],
        [
          ["read", med(r.kitRead), med(r.oursRead), read],
          ["write", med(r.kitWrite), med(r.oursWrite), write],
        ],
      );
      const u = device.usage();
      console.log(`device: ${u.allocated}/${u.blocks} blocks in remote memory on ${mem.endpoint}`);
      console.log(
        "note: every block of ours crosses loopback twice (qemu ↔ nbd server ↔ rmem server process) on the same " +
          "CPUs; nbdkit memory serves it from its own address space",
      );
      emitResult("nbd", {
        read_iops: med(r.oursRead),
        write_iops: med(r.oursWrite),
        nbdkit_read_iops: med(r.kitRead),
        nbdkit_write_iops: med(r.kitWrite),
        rounds: { ours_read: r.oursRead, ours_write: r.oursWrite, nbdkit_read: r.kitRead, nbdkit_write: r.kitWrite },
      }, {
        read_iops_vs_nbdkit: { value: read, target: 0.7, op: ">=" },
        write_iops_vs_nbdkit: { value: write, target: 0.7, op: ">=" },
      });
    } finally {
      try {
        kit.kill("SIGTERM");
      } catch { /* exited */ }
      await kit.status;
      await kit.stderr.cancel().catch(() => {});
    }
  },
};

export default bench;

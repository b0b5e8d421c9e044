/**
 * `deno task bench multinode-boot` (issue 9): prepare N lab nodes and boot one QEMU guest per node to SSH-ready,
 * for N = 1, 2, 4, with hyperlab (persistent SSH, every node prepared, then all guests started at once, per-node
 * boot waits) side by side with the way the original scripts do it: a shell loop that, one node at a time, runs
 * plain `ssh` to start QEMU (the same command line), polls the console for the SSH-ready marker and then SSHes into
 * the guest. Caches are warmed first (image built and uploaded, accelerator probed), so both sides boot the same
 * files. Orchestration overhead (connect + prepare) is reported apart from guest boot (start → SSH-ready).
 * Target at N = 4: hyperlab at least 1.7× faster than the loop. `--sizes 1,2` runs fewer sizes.
 * @module
 */
import { rmSync } from "node:fs";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { labDown, type LabState, labUp } from "../../lib/lab/lab_nodes.ts";
import { type NodeGuest, nodeRunnerOf, SSH_READY_MARKER, startGuestOnNode } from "../../lib/lab/guests_mod.ts";
import { connectCluster, shQuote } from "../../lib/remote/mod.ts";
import { type Bench, emitResult, printTable, type Target } from "./_report.ts";

const LAB = { prefix: "fvmb", subnet: 233 };
const GUEST = { cpus: 1, memoryMiB: 256, waitUntil: "ssh" as const, bootTimeoutMs: 300_000 };

function sshArgs(lab: LabState, ip: string): string[] {
  return [
    ...["-i", lab.key, "-o", `UserKnownHostsFile=${lab.knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
    ...["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", `${lab.user}@${ip}`],
  ];
}

/** hyperlab: connect, prepare every node, then start every guest at once and wait for each to be SSH-ready. */
async function hyperlabBoot(
  lab: LabState,
  n: number,
): Promise<{ total: number; prepare: number; guests: NodeGuest[] }> {
  const t0 = performance.now();
  const inv = (await loadInventory(lab.inventory)).limit(lab.nodes.slice(0, n).map((x) => x.name).join(","));
  const cluster = connectCluster(inv);
  await cluster.run({ cmd: "command -v qemu-system-x86_64 >/dev/null && command -v bash >/dev/null" }, {
    timeout: 30_000,
    stream: false,
  });
  const prepare = performance.now() - t0;
  const guests = await Promise.all(
    cluster.nodes.map((node, i) => startGuestOnNode(nodeRunnerOf(node), { ...GUEST, name: `mb${i}` })),
  );
  const total = performance.now() - t0;
  for (const g of guests) await g.stop();
  cluster.close();
  return { total, prepare, guests };
}

/** The original way: one node at a time, plain ssh, same QEMU command line, console polled, then ssh into the guest. */
async function shellLoopBoot(lab: LabState, recorded: NodeGuest[], n: number): Promise<number> {
  const lines: string[] = ["set -e"];
  const dirs: string[] = [];
  for (let i = 0; i < n; i++) {
    const g = recorded[i];
    const ip = lab.nodes[i].ip;
    const dir = `/tmp/hyperlab-mbloop-${i}-${crypto.randomUUID().slice(0, 8)}`;
    dirs.push(dir);
    const argv = g.argv.map((a) => a.replaceAll(g.dir, dir));
    const ssh = ["ssh", ...sshArgs(lab, ip)].map(shQuote).join(" ");
    const start = `mkdir -p ${dir} && ${argv.map(shQuote).join(" ")}`;
    const ready = `grep -q ${shQuote(SSH_READY_MARKER)} ${dir}/console.log 2>/dev/null`;
    const ep = g.endpoint!;
    const inGuest = `ssh -i ${ep.key} -p ${ep.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
      `-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 root@127.0.0.1 true`;
    lines.push(
      `${ssh} ${shQuote(start)}`,
      `until ${ssh} ${shQuote(ready)}; do sleep 0.2; done`,
      `until ${ssh} ${shQuote(inGuest)}; do sleep 0.2; done`,
    );
  }
  const t0 = performance.now();
  const o = await new Deno.Command("bash", { args: ["-c", lines.join("\n")], stdout: "piped", stderr: "piped" })
    .output();
  const ms = performance.now() - t0;
  for (let i = 0; i < n; i++) {
    await new Deno.Command("ssh", {
      args: [
        ...sshArgs(lab, lab.nodes[i].ip),
        `kill $(cat ${dirs[i]}/qemu.pid) 2>/dev/null; sleep 0.3; rm -rf ${dirs[i]}`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
  }
  if (!o.success) throw new Error(`shell loop failed: ${new TextDecoder().decode(o.stderr).slice(-800)}`);
  return ms;
}

const bench: Bench = {
  name: "multinode-boot",
  description: "N lab nodes prepared and N QEMU guests booted to SSH-ready: hyperlab vs a one-at-a-time ssh loop",
  async run(args: string[]) {
    const i = args.indexOf("--sizes");
    const sizes = i >= 0 ? args[i + 1].split(",").map(Number) : [1, 2, 4];
    if (sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 4)) {
      throw new Error(`--sizes: expected sizes 1..4 separated by commas (got ${args[i + 1]})`);
    }
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-fvmb-" });
    const opts = { dir, ...LAB };
    const rows: (string | number)[][] = [];
    const results: Record<string, unknown> = {};
    try {
      await labDown(opts);
      const lab = await labUp(Math.max(...sizes), opts);
      console.error("warming caches (image upload, accelerator probe) on every node…");
      const warm = await hyperlabBoot(lab, Math.max(...sizes));
      results.accel = warm.guests[0].accel.accel;
      for (const n of sizes) {
        const h = await hyperlabBoot(lab, n);
        const loop = await shellLoopBoot(lab, warm.guests, n);
        const speedup = loop / h.total;
        rows.push([n, h.total / 1000, h.prepare / 1000, (h.total - h.prepare) / 1000, loop / 1000, speedup]);
        results[`n${n}`] = {
          hyperlabMs: h.total,
          orchestrationMs: h.prepare,
          bootMs: h.total - h.prepare,
          shellLoopMs: loop,
          speedup,
        };
      }
      printTable(
        `multinode-boot: prepare N nodes + boot N guests to SSH-ready (seconds, accel ${results.accel})`,
        ["N", "hyperlab", "orchestration", "guest boot", "ssh loop", "speedup"],
        rows,
      );
      const top = results[`n${Math.max(...sizes)}`] as { speedup: number };
      const targets: Record<string, Target> = {};
      if (sizes.includes(4)) targets["speedup_n4"] = { value: top.speedup, target: 1.7, op: ">=" };
      emitResult("multinode-boot", results, targets);
    } finally {
      await labDown(opts);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;

/**
 * A real multi-node boot on this machine (issue 9 §2): one Linux guest (QEMU, lib/lab guests) per lab node, with a
 * coordinated start — every node prepared (QEMU and bash present, image built) before any guest starts — then
 * per-node boot-marker waits to SSH-ready, a command in every guest over SSH, and the FragVisor verification idea:
 * a CPU loop pinned to each vCPU of each guest in turn while the controller samples each node's QEMU CPU time (lab
 * nodes share the host's CPUs, so a node's load is its own QEMU's). Boot time per node and in total are recorded.
 * A node that fails to boot is named; the other guests are stopped (or kept with --allow-partial). A node's
 * `vars.bootTimeoutMs` overrides the boot budget for that node.
 *
 * `deno task play fragvisor/lab-boot --inventory lab --vcpus 2`
 */
import { z } from "zod";
import { HyperlabError, InputError } from "../../lib/core/errors.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster } from "../../lib/remote/mod.ts";
import { buildGuestImage, type NodeGuest, nodeRunnerOf, startGuestOnNode } from "../../lib/lab/guests_mod.ts";
import { busiest } from "../../lib/fragvisor/cpu_load.ts";
import { parseProcStatCpu } from "../../lib/fragvisor/process_cpu.ts";

const Params = z.object({
  inventory: z.string().min(1).describe("inventory file or `lab`"),
  limit: z.string().optional().describe("limit expression"),
  vcpus: z.number().int().min(1).max(8).default(1).describe("vCPUs per guest"),
  memoryMiB: z.number().int().min(64).max(4096).default(256).describe("memory per guest, MiB"),
  accel: z.enum(["auto", "kvm", "tcg"]).default("auto").describe("QEMU accelerator (auto: KVM when a probe works)"),
  bootTimeoutMs: z.number().int().min(1000).max(3_600_000).default(180_000).describe("per guest: start to SSH-ready"),
  loopSeconds: z.number().int().min(1).max(60).default(2).describe("verify: seconds of CPU loop per vCPU"),
  verify: z.boolean().default(true).describe("run the pinned CPU loop per vCPU and sample each node's QEMU"),
  allowPartial: z.boolean().default(false).describe("keep going with the guests that booted when one fails"),
});

/** A node's own boot budget (`vars.bootTimeoutMs`, e.g. a slower host), else the parameter. */
function nodeBootTimeout(vars: Record<string, unknown>, fallback: number, node: string): number {
  const v = vars.bootTimeoutMs;
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1000) {
    throw new InputError(`node "${node}" vars.bootTimeoutMs`, "an integer >= 1000 (ms)", v);
  }
  return v;
}

function guestName(node: string): string {
  return `fv-${node.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 31);
}

export default definePlaybook({
  name: "fragvisor/lab-boot",
  description: "Boot one QEMU guest per lab node with a coordinated start, SSH into each, verify per-vCPU load",
  params: Params,
  async run(ctx) {
    const p = ctx.params;
    const inv = await loadInventory(p.inventory, p.limit);
    const cluster = connectCluster(inv);
    const names = cluster.nodes.map((n) => n.name);

    await ctx.step("prepare every node (QEMU and bash present), build the guest image", async () => {
      await cluster.run({ cmd: "command -v qemu-system-x86_64 >/dev/null && command -v bash >/dev/null" }, {
        timeout: 30_000,
      });
      if (!ctx.dryRun) await buildGuestImage({});
    });

    const t0 = performance.now();
    const bootMs: Record<string, number> = {};
    const settled = await ctx.step(
      "start every guest at once and wait for SSH-ready",
      () =>
        Promise.allSettled(cluster.nodes.map(async (node) => {
          const g = await startGuestOnNode(nodeRunnerOf(node), {
            name: guestName(node.name),
            cpus: p.vcpus,
            memoryMiB: p.memoryMiB,
            accel: p.accel,
            waitUntil: "ssh",
            bootTimeoutMs: nodeBootTimeout(node.spec.vars, p.bootTimeoutMs, node.name),
          });
          bootMs[node.name] = performance.now() - t0;
          return g;
        })),
    );
    const guests = new Map<string, NodeGuest>();
    const failedNodes: string[] = [];
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") guests.set(names[i], s.value);
      else {
        failedNodes.push(names[i]);
        ctx.log.error(`guest failed to boot: ${(s.reason as Error)?.message ?? s.reason}`, names[i]);
      }
    });
    ctx.defer(async () => {
      for (const g of guests.values()) await g.stop().catch(() => {});
    });
    if (ctx.dryRun) return { nodes: names, failedNodes };
    const totalMs = performance.now() - t0;
    for (const [n, ms] of Object.entries(bootMs)) ctx.metric("boot.ssh_ready", ms, "ms", { node: n });
    ctx.metric("boot.total", totalMs, "ms");
    if (failedNodes.length && !p.allowPartial) {
      for (const g of guests.values()) await g.stop().catch(() => {});
      throw new HyperlabError(
        "boot",
        `guests failed to boot on ${failedNodes.join(", ")}; the guests on ${
          [...guests.keys()].join(", ") || "no node"
        } ` +
          "were stopped",
      );
    }

    const unames = await ctx.step("SSH into every guest", async () => {
      const out: Record<string, string> = {};
      for (const [n, g] of guests) {
        const r = await g.exec("uname -r; nproc", { timeoutMs: 30_000 });
        if (r.code !== 0) throw new HyperlabError("guest", `${n}: command in the guest failed: ${r.stderr.trim()}`);
        out[n] = r.stdout.trim().replace(/\n/g, " / ");
      }
      return out;
    });

    const verify: { node: string; vcpu: number; cpuSeconds: Record<string, number>; busiest: string; ok: boolean }[] =
      [];
    if (p.verify) {
      await ctx.step("verify: CPU loop pinned to each vCPU, QEMU CPU time sampled on every node", async () => {
        const sample = async () =>
          Object.fromEntries(
            await Promise.all([...guests].map(async ([n, g]) => {
              const r = await g.node.run(["cat", `/proc/${g.pid}/stat`]);
              return [n, parseProcStatCpu(r.stdout)] as const;
            })),
          );
        const loop = `end=$(( $(date +%s) + ${p.loopSeconds} )); while [ $(date +%s) -lt $end ]; do :; done`;
        for (const [n, g] of guests) {
          for (let v = 0; v < p.vcpus; v++) {
            const before = await sample();
            const r = await g.exec(`taskset -c ${v} sh -c '${loop}'`, { timeoutMs: (p.loopSeconds + 30) * 1000 });
            const after = await sample();
            const cpu = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
            const keys = Object.keys(cpu);
            const top = keys[busiest(keys.map((k) => cpu[k]))];
            verify.push({ node: n, vcpu: v, cpuSeconds: cpu, busiest: top, ok: r.code === 0 && top === n });
            ctx.metric("verify.qemu_cpu", cpu[n], "s", { node: n, vcpu: String(v) });
            if (r.code !== 0) ctx.log.warn(`taskset -c ${v} in the guest failed: ${r.stderr.trim()}`, n);
          }
        }
      });
    }
    return { nodes: names, bootMs, totalMs, unames, verify, failedNodes };
  },
});

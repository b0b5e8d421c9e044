/**
 * Scalevisor (seed-systems §4): VM memory on remote nodes. Starts memory servers (on inventory nodes, or as local
 * processes), connects this host to them (rmem client over TCP, regions spread across the servers, request
 * merging on or off) and serves a remote-memory disk over NBD; boots a lab guest with that disk as /dev/vda and a
 * local disk image as /dev/vdb, `mkswap`s both, and runs the project's own static kmeans in a cgroup v2 whose
 * memory.max (or memory.high, `--limit-kind high`) is a ratio of the working set (the all-local run's
 * memory.peak), once per ratio with swap on remote memory and once with swap on the local disk image, plus the
 * all-local baseline (no swap, no limit). Wall-clock per run is a metric (tags ratio, swap, merge, round); a run
 * the kernel OOM-kills at its limit is recorded as such; `--repeat N` measures every point N times in interleaved
 * rounds; the curve (medians) is stored as `runtime-vs-ratio.svg`. Lost pages of a memory server that dies are
 * logged and recorded (`--kill-server` drills it after the sweep). The result names what stands in for the real
 * substrate. The guest runs on this host (the controller); memory servers run on the inventory's nodes.
 *
 *   deno task play scalevisor [--inventory lab] [--limit n1,n2] [--servers 2] [--merge] [--ratios 1,0.75,0.5,0.25]
 *     [--working-set 96M] [--disk 128M] [--pool-per-server 128M] [--guest-memory 256M] [--repeat 1]
 *     [--limit-kind max|high] [--no-disk-baseline] [--kill-server] [--dry-run]
 * @module
 */
import { join } from "node:path";
import { effect } from "../../lib/core/ambient.ts";
import { HyperlabError, InputError } from "../../lib/core/errors.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { buildStaticProgram, type Guest, startGuest } from "../../lib/lab/guests_mod.ts";
import { NbdServer, RmemBlockDevice } from "../../lib/nbd/mod.ts";
import { type LostMemory, RmemClient } from "../../lib/rmem/mod.ts";
import type { RunContext } from "../../lib/core/context.ts";
import { GUEST_KMEANS, setupScript, SWAP_DEVICES } from "./guest_script.ts";
import { measure, medians, type SweepDeps, type SweepRun } from "./sweep.ts";
import { faultDrill } from "./fault_drill.ts";
import { KMEANS_SOURCE } from "./kmeans.ts";
import { resolveSizes, ScalevisorParams } from "./params.ts";
import { type CurvePoint, runtimeChart } from "./plot.ts";
import { startMemoryServers } from "./servers.ts";
import { standIns } from "./stand_ins.ts";

export type { SweepRun } from "./sweep.ts";

/** The host's side of the remote memory (null members under --dry-run). */
interface HostSide {
  client: RmemClient | null;
  device: RmemBlockDevice | null;
  nbd: NbdServer | null;
  url: string;
}

/** The seed every run uses, so every run computes the same centers (checked). */
const SEED = 1;

export default definePlaybook({
  name: "scalevisor",
  description: "Remote memory for a VM: memory servers, NBD swap disk in a lab guest, kmeans runtime vs " +
    "local-memory ratio with all-local and local-disk baselines",
  params: ScalevisorParams,
  async run(ctx) {
    const p = ctx.params;
    const sizes = resolveSizes(p);
    if (p.limit && !p.inventory) throw new InputError("--limit", "to be used with --inventory", p.limit);

    const runDir = ctx.dryRun ? "/<run dir>" : await Deno.makeTempDir({ prefix: "hyperlab-scalevisor-" });
    if (!ctx.dryRun) ctx.defer(() => Deno.remove(runDir, { recursive: true }).catch(() => {}));

    // 1. memory servers
    const { servers, namespaces } = await ctx.step(
      "start memory servers",
      () => startMemoryServers({ ...p, runDir, secret: (v) => ctx.secret(v) }),
    );
    ctx.defer(async () => void await Promise.all(servers.map((s) => s.stop())));
    for (const s of servers) ctx.log.info(`memory server on ${s.node}: ${s.endpoint}`);

    // 2. the project's kmeans, static, for the guest image
    const kmeans = await ctx.step("build kmeans (static) for the guest image", () =>
      effect(
        { kind: "process", target: "localhost", action: `gcc -static -O2 -o <cache>/kmeans ${KMEANS_SOURCE} -lm` },
        async () => (await buildStaticProgram({ name: "kmeans", sources: [KMEANS_SOURCE], cflags: ["-lm"] })).path,
        () => "/<cache>/kmeans",
      ));

    // 3. connect the host: rmem client across the servers, NBD disk whose blocks live in their memory
    const lost: LostMemory[] = [];
    const host = await ctx.step("connect the host: rmem client and NBD remote-memory disk", () =>
      effect(
        {
          kind: "rmem",
          target: "localhost",
          action: `connect ${servers.map((s) => s.endpoint).join(",")} (${sizes.perServerBytes} bytes each, merge ${
            p.merge ? "on" : "off"
          }); serve NBD export swap of ${sizes.diskBytes} bytes on 127.0.0.1:<port>`,
        },
        async (): Promise<HostSide> => {
          const client = await RmemClient.connect({
            servers: servers.map((s) => s.endpoint),
            bytesPerServer: sizes.perServerBytes,
            merge: p.merge,
          });
          ctx.defer(() => client.close());
          client.onLoss((l) => {
            lost.push(l);
            ctx.log.error(`memory server ${l.server} died: ${l.pages} pages lost (${l.reason})`);
            ctx.metric("rmem.lost_pages", l.pages, "pages", { server: l.server });
          });
          const device = new RmemBlockDevice(client, sizes.diskBytes);
          const nbd = NbdServer.start({ exports: { swap: device } });
          ctx.defer(() => nbd.close());
          return { client, device, nbd, url: nbd.url("swap") };
        },
        (): HostSide => ({ client: null, device: null, nbd: null, url: "nbd://127.0.0.1:<port>/swap" }),
      ));

    // 4. the local-disk baseline's swap image
    const localImage = join(runDir, "local-swap.raw");
    if (p.diskBaseline) {
      await effect(
        {
          kind: "file",
          target: "localhost",
          action: `create sparse raw image ${localImage} of ${sizes.diskBytes} bytes`,
        },
        async () => {
          await Deno.writeFile(localImage, new Uint8Array());
          await Deno.truncate(localImage, sizes.diskBytes);
        },
        () => undefined,
      );
    }

    // 5. the guest
    const guest: Guest = await ctx.step("boot the guest with the remote-memory disk", () =>
      startGuest({
        name: "scalevisor",
        cpus: p.guestCpus,
        memoryMiB: sizes.guestMemoryMiB,
        drives: [{ nbd: host.url }, ...(p.diskBaseline ? [{ file: localImage, format: "raw" as const }] : [])],
        image: { files: [{ path: GUEST_KMEANS, source: kmeans, mode: 0o755 }] },
      }), { timeoutMs: 300_000 });
    const devices = [SWAP_DEVICES.remote, ...(p.diskBaseline ? [SWAP_DEVICES["local-disk"]] : [])];
    const setup = await ctx.step("guest: cgroup2 memory controller, mkswap", async () => {
      const r = await guest.exec(setupScript(devices), { timeoutMs: 60_000 });
      if (r.code !== 0) {
        throw new HyperlabError("scalevisor", `guest set-up failed (exit ${r.code}): ${r.stderr.trim()}`, {
          hint: "the guest kernel needs cgroup2 with the memory controller and swap support",
        });
      }
      return r.stdout;
    });
    if (!ctx.dryRun) {
      for (const d of devices) {
        const sectors = Number(new RegExp(`sectors:${d}=(\\d+)`).exec(setup)?.[1]);
        if (sectors * 512 !== sizes.diskBytes) {
          throw new HyperlabError("scalevisor", `guest ${d} has ${sectors} sectors, expected ${sizes.diskBytes / 512}`);
        }
      }
    }

    // 6. the sweep
    const runs: SweepRun[] = [];
    const deps: SweepDeps = {
      ctx: ctx as RunContext<unknown>,
      guest,
      nbd: host.nbd,
      client: host.client,
      merge: p.merge,
      timeoutMs: p.runTimeout * 1000,
      runs,
    };
    const size = sizes.kmeans;
    const limitFile = p.limitKind === "high" ? "memory.high" : "memory.max";
    const suffix = (round: number) => p.repeat > 1 ? ` (round ${round}/${p.repeat})` : "";
    let baseline: SweepRun | null = null;
    for (let round = 1; round <= p.repeat; round++) {
      const local = await measure(
        deps,
        { swap: "none", size, seed: SEED, recordPeak: round === 1 },
        { ratio: null, round },
        `kmeans, all memory local (no swap, memory.max=max)${suffix(round)}`,
      );
      if (local?.outcome === "oom-killed") {
        throw new HyperlabError("scalevisor", "kmeans was OOM-killed without any limit: the guest is too small", {
          hint: "raise --guest-memory or lower --working-set",
        });
      }
      if (round === 1 && local) {
        baseline = local;
        ctx.metric("kmeans.working_set", local.peakBytes, "bytes");
      }
      for (const [i, ratio] of p.ratios.entries()) {
        const spec = { perMille: sizes.perMille[i], limitFile, size, seed: SEED } as const;
        const at = { ratio, round };
        await measure(
          deps,
          { swap: "remote", ...spec },
          at,
          `kmeans at ratio ${ratio}, swap on remote memory${suffix(round)}`,
        );
        if (p.diskBaseline) {
          await measure(
            deps,
            { swap: "local-disk", ...spec },
            at,
            `kmeans at ratio ${ratio}, swap on a local disk image${suffix(round)}`,
          );
        }
      }
    }
    const drill = p.killServer
      ? await ctx.step(
        `fault drill: kill the memory server on ${servers[0].node}, guest reads of its blocks`,
        () => faultDrill({ victim: servers[0], lost, device: host.device, guest, dryRun: ctx.dryRun }),
      )
      : null;
    if (drill) {
      ctx.metric("nbd.lost_blocks", drill.lostBlocks, "blocks", { server: drill.server.endpoint });
      const silent = drill.probes.filter((x) => !x.failed);
      if (silent.length) {
        throw new HyperlabError(
          "scalevisor",
          `guest reads of lost blocks ${silent.map((x) => x.block).join(", ")} succeeded: lost memory read as data`,
        );
      }
    }
    if (ctx.dryRun) return { dryRun: true, servers: servers.map((s) => ({ node: s.node, endpoint: s.endpoint })) };

    // 7. the curve, the disk's state and what stood in for what
    const points = medians(runs);
    const curve: CurvePoint[] = points.flatMap((m) =>
      m.ratio !== null && m.swap !== "none" ? [{ ratio: m.ratio, swap: m.swap, wallSeconds: m.wallSeconds }] : []
    );
    const allLocal = points.find((m) => m.swap === "none")!.wallSeconds;
    await ctx.artifact("runtime-vs-ratio.svg", runtimeChart(curve, allLocal, { merge: p.merge }), "image/svg+xml");
    await ctx.artifact("kmeans.c", { path: KMEANS_SOURCE }, "text/x-c");
    const usage = host.device!.usage();
    return {
      servers: servers.map((s) => ({ node: s.node, endpoint: s.endpoint })),
      disk: host.url,
      merge: p.merge,
      limit: p.limitKind === "high" ? "memory.high" : "memory.max",
      oomKilled: runs.filter((r) => r.outcome === "oom-killed").map((r) => ({ ratio: r.ratio, swap: r.swap })),
      kernel: /kernel=(\S+)/.exec(setup)?.[1],
      accel: guest.accel.accel,
      kmeans: size,
      workingSetBytes: baseline!.peakBytes,
      medians: points,
      runs,
      nbd: host.nbd!.stats(),
      rmem: host.client!.usage().map((u) => ({ server: u.server, alive: u.alive, regions: u.regions })),
      lostPages: lost.map((l) => ({ server: l.server, reason: l.reason, pages: l.pages })),
      lostBlocks: usage.lost,
      faultDrill: drill,
      standIns: await standIns({ ...p, accel: guest.accel.accel, namespaces, runDir }),
    };
  },
});

/**
 * FragVisor: boot one aggregate VM across Popcorn Linux nodes (seed-systems §1). Phases, each made of recorded
 * steps: kernels (debug.h origin define per node, build, install, reboot), restart (IPMI power-cycle every host),
 * msg-layer (config.h from the inventory in node order, build, load strictly in node order, wait for Ready + N−1
 * joined), launch (clean /root/.lkvm, lkvm from the vCPU layout with the console kept alive, tap in bridge, console
 * markers), verify (SSH into the VM, benchmark pinned per vCPU while sampling host load), experiments (LEMP,
 * network delegation, OpenLambda, /proc/popcorn_stat). `--dry-run` prints every command per node.
 *
 * `deno task play fragvisor --inventory popcorn.yaml --vcpus 1,1,1,1 --phases msg-layer,launch --dry-run`
 */
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster } from "../../lib/remote/mod.ts";
import {
  cleanLkvmState,
  collectPopcornStat,
  connectGuest,
  type ConsoleMarker,
  FragvisorParams,
  guestCredentials,
  installHostKernels,
  type LaunchedVm,
  loadMessagingLayerInOrder,
  openLambdaCommand,
  parseOpenLambda,
  powerCycleAll,
  prepareMessagingLayer,
  rebootAll,
  rebuildOnOrigin,
  resolveConfig,
  runAb,
  startLkvm,
  verifyPlacement,
  waitForBridge,
  waitForConsole,
  waitForJoin,
  withPath,
} from "../../lib/fragvisor/mod.ts";

export default definePlaybook({
  name: "fragvisor",
  description: "FragVisor aggregate VM across Popcorn nodes: kernels, messaging layer in node order, lkvm launch, " +
    "verification, experiments, IPMI restart",
  params: FragvisorParams,
  async run(ctx) {
    const p = ctx.params;
    const inv = await loadInventory(p.inventory, p.limit);
    const cfg = resolveConfig(p, inv.nodes);
    for (const s of inv.secrets()) ctx.secret(s);
    const cluster = connectCluster(inv);
    const origin = cluster.origin.name;
    ctx.log.info(
      `nodes ${cfg.nodeNames.join(", ")} (origin ${origin}); vCPUs ${cfg.layout.perNode.join("/")}; ` +
        `phases ${cfg.phaseList.join(", ")}`,
    );
    const result: Record<string, unknown> = {
      nodes: cfg.nodeNames,
      ips: cfg.ips,
      vcpus: cfg.layout.perNode,
      phases: cfg.phaseList,
      failedNodes: [] as string[],
    };
    let vm: LaunchedVm | undefined;
    ctx.defer(async () => await vm?.stop());

    for (const phase of cfg.phaseList) {
      if (phase === "kernels") {
        await ctx.step("kernels: debug.h per node, build, install", () => installHostKernels(cluster, cfg));
        await ctx.step("kernels: reboot and wait for SSH", () => rebootAll(cluster, cfg));
      } else if (phase === "restart") {
        await ctx.step("restart: IPMI power cycle every host, wait for SSH", () => powerCycleAll(cluster, cfg));
      } else if (phase === "msg-layer") {
        await ctx.step("messaging layer: config.h and build on every node", () => prepareMessagingLayer(cluster, cfg));
        const t0 = performance.now();
        const baseline = await ctx.step(
          "messaging layer: load in node order",
          () => loadMessagingLayerInOrder(cluster, cfg),
        );
        const join = await ctx.step(
          "messaging layer: wait for Ready and N-1 joined",
          () => waitForJoin(cluster, cfg, baseline),
        );
        if (!ctx.dryRun) {
          ctx.metric("msg_layer.join", performance.now() - t0, "ms");
          result.join = join.nodes.map((n) => ({ node: n.node, nid: n.nid, ready: n.ready }));
        }
      } else if (phase === "launch") {
        await ctx.step("launch: clean lkvm sockets on every node", () => cleanLkvmState(cluster, cfg));
        if (cfg.rebuildLkvm || cfg.rebuildGuestKernel) {
          await ctx.step("launch: rebuild lkvm / guest kernel on the origin", () => rebuildOnOrigin(cluster, cfg));
        }
        const t0 = performance.now();
        vm = await ctx.step("launch: start lkvm on the origin", () => startLkvm(cluster, cfg));
        const wait = (what: string, markers: ConsoleMarker[]) =>
          ctx.step(`launch: ${what}`, () => waitForConsole(vm!, markers, cfg.bootTimeoutMs, origin));
        await Promise.all([
          cfg.waitBridge
            ? ctx.step(`launch: ${cfg.tap} in ${cfg.bridge}`, () => waitForBridge(cluster, cfg))
            : undefined,
          wait("lkvm init [time]", ["lkvmInit"]),
        ]);
        await wait("Initstrap done and ALL DONE", ["initstrap", "allDone"]);
        if (!ctx.dryRun) {
          const s = vm.console.state;
          if (s.lkvmInitMs !== undefined) ctx.metric("lkvm.init", s.lkvmInitMs, "ms");
          if (s.bootSeconds !== undefined) ctx.metric("guest.boot", s.bootSeconds, "s");
          ctx.metric("boot.all_done", performance.now() - t0, "ms");
          result.console = { ...s, keepalives: vm.keepalives() };
          await ctx.artifact("lkvm-console.log", vm.console.text(), "text/plain");
        }
      } else if (phase === "verify") {
        const guest = await ctx.step(
          "verify: SSH into the VM",
          () => connectGuest(cluster.origin, cfg.guestIp, guestCredentials(cluster.origin.spec)),
        );
        ctx.defer(() => guest.close());
        const runs = await ctx.step(
          "verify: benchmark pinned to each vCPU, host load sampled",
          () => verifyPlacement(cluster, cfg, guest),
        );
        for (const r of runs) {
          r.loads.forEach((l, i) =>
            ctx.metric("verify.host_load", l, "fraction", { vcpu: String(r.vcpu), node: cfg.nodeNames[i] })
          );
          if (!r.ok) ctx.log.warn(`vCPU ${r.vcpu} (${r.mask}) loaded ${r.busiest}, expected ${r.owner}`);
        }
        result.verify = runs;
      } else if (phase === "experiments") {
        const exp: Record<string, unknown> = {};
        const url = (path: string, port = 80) => `http://${cfg.guestIp}${port === 80 ? "" : `:${port}`}${path}`;
        if (cfg.experiments.includes("lemp")) {
          exp.lemp = await ctx.step("experiments: LEMP (ab -n 100 -c 10 per PHP script)", async () => {
            const out: Record<string, unknown> = {};
            for (const path of cfg.lempPaths) {
              const r = await runAb(cluster.origin, cfg, url(path), 100, 10);
              if (r) {
                out[path] = r;
                ctx.metric("lemp.requests_per_second", r.requestsPerSecond, "1/s", { path });
                ctx.metric("lemp.time_per_request", r.timePerRequestMs, "ms", { path });
              }
            }
            return out;
          });
        }
        if (cfg.experiments.includes("net-delegation")) {
          exp.netDelegation = await ctx.step(
            "experiments: network delegation (ab -n 1000 -c 10 per size)",
            async () => {
              const out: Record<string, unknown> = {};
              for (const path of cfg.netPaths) {
                const r = await runAb(cluster.origin, cfg, url(path), 1000, 10);
                if (r) {
                  out[path] = r;
                  ctx.metric("net.transfer_rate", r.transferRateKBps, "KB/s", { path });
                  ctx.metric("net.time_taken", r.timeTakenS, "s", { path });
                  ctx.metric("net.time_per_request", r.timePerRequestMs, "ms", { path });
                }
              }
              return out;
            },
          );
        }
        if (cfg.experiments.includes("openlambda")) {
          exp.openlambda = await ctx.step("experiments: OpenLambda concurrent requests", async () => {
            const r = await cluster.origin.run({
              cmd: withPath(cfg, openLambdaCommand(cfg.guestIp, cfg.openlambdaFunctions)),
            }, {
              stream: false,
              timeout: 600_000,
            });
            if (r.dryRun) return undefined;
            const o = parseOpenLambda(r.stdout);
            ctx.metric("openlambda.total", o.totalMs, "ms");
            return o;
          });
        }
        const stats = await ctx.step("experiments: /proc/popcorn_stat per host", () => collectPopcornStat(cluster));
        for (const s of stats) {
          if (s.error) (result.failedNodes as string[]).push(s.node);
          else if (!ctx.dryRun) await ctx.artifact(`popcorn_stat-${s.node}.txt`, s.text, "text/plain");
        }
        exp.popcornStat = stats.map(({ node, counters, error }) => ({ node, counters, error }));
        result.experiments = exp;
      }
    }
    return result;
  },
});

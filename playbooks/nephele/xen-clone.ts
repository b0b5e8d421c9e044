/**
 * Nephele on a Xen testbed (seed-systems §2): preflight the dom0 (Xen, clone hypercall, xencloned, vif bridge),
 * start xencloned and wait for its `notification ring`, create the parent from a generated xl config
 * (max_clones, skip_cloning, vif, cmdline), wait for it, trigger clones (`xl clone -b N` or the guest's TCP `fork`
 * on port 6613), wait for `<name>-child-<domid>` in `xl list`, collect `clone completion domid=… msec=…` lines,
 * guest console logs and UDP time reports (port 32764, acked), then destroy the domains.
 *
 * Without Xen it stops at preflight naming what is missing. On a Xen without the clone hypercall (stock Xen) it
 * stops there too, unless `--until-clone`: then every step up to the clone runs for real (xl config, parent
 * creation, console log, teardown) and the run fails at the clone step naming the missing hypercall.
 *
 * `deno task play nephele/xen-clone --inventory xen.yaml --clones 4 --dry-run`
 */
import { MissingError } from "../../lib/core/errors.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster, shQuote } from "../../lib/remote/mod.ts";
import {
  completionStats,
  consoleLogPaths,
  NepheleParams,
  parentXlConfig,
  parsePreflight,
  preflightScript,
  requireCloningXen,
  sendForkFromController,
  sendForkFromDom0,
  startXencloned,
  TimeCollector,
  waitForChildren,
  waitForConsoleMarker,
  waitForGuestPing,
  type XenclonedHandle,
  xlClone,
  xlOn,
} from "../../lib/nephele/mod.ts";

export default definePlaybook({
  name: "nephele/xen-clone",
  description: "Nephele VM cloning on a Xen dom0: xencloned, parent from an xl config with max_clones, clone " +
    "triggers, children count, completion times, console logs, UDP time reports, teardown",
  params: NepheleParams,
  async run(ctx) {
    const p = ctx.params;
    const inv = await loadInventory(p.inventory, p.limit);
    const cluster = connectCluster(inv);
    const dom0 = cluster.origin;
    const xl = xlOn(dom0, p.sudo);
    const config = parentXlConfig(p);
    const result: Record<string, unknown> = { dom0: dom0.name, parent: p.name, failedNodes: [] as string[] };

    const cloneMissing = await ctx.step("preflight: Xen, clone hypercall, xencloned, bridge", async () => {
      const r = await dom0.run({ cmd: preflightScript(p.xencloned, p.bridge) }, { stream: false, timeout: 30_000 });
      if (r.dryRun) return undefined;
      const facts = parsePreflight(r.stdout);
      ctx.facts(dom0.name, { xen: facts });
      try {
        requireCloningXen(facts, dom0.name, p);
        return undefined;
      } catch (e) {
        const isXen = facts.xl && facts.xenstore && facts.privcmd;
        if (!(p.untilClone && isXen && e instanceof MissingError)) throw e;
        ctx.log.warn(`${e.message}: running every step up to the clone (--until-clone)`, dom0.name);
        return e;
      }
    });
    if (cloneMissing) result.missing = cloneMissing.message;

    let collector: TimeCollector | undefined;
    if (p.collector === "controller") {
      collector = await ctx.step("UDP time collector", async () => {
        if (ctx.dryRun) {
          ctx.plan({
            kind: "udp",
            target: "controller",
            action: `listen 0.0.0.0:${p.collectorPort}, ack every report`,
          });
          return undefined;
        }
        const c = await TimeCollector.start({
          port: p.collectorPort,
          onReport: (r) => ctx.log.info(`time report ${r.raw} from ${r.from}`, "collector"),
        });
        ctx.defer(() => c.close());
        return c;
      });
    }

    let cloned: XenclonedHandle | undefined;
    if (!cloneMissing) {
      cloned = await ctx.step("xencloned: start, wait for notification ring", () =>
        startXencloned(dom0, {
          path: p.xencloned,
          cache: p.cache,
          sharingPool: p.sharingPool,
          leavePaused: p.leavePaused,
          ringPages: p.ringPages,
          noIoCloning: p.noIoCloning,
          deepCopy: p.deepCopy,
        }, { log: p.xenclonedLog, timeoutMs: p.readyTimeoutMs, sudo: p.sudo }));
      if (cloned.reset) result.xenclonedReset = true;
    }

    // Teardown is the last step; the same code runs deferred when the run is cancelled before it (never under
    // --dry-run: deferred code runs outside the run's plan recording).
    const domains = new Set<string>();
    let tornDown = false;
    const teardown = async () => {
      tornDown = true;
      if (!p.keepDomains) {
        for (const d of [...domains].reverse()) await xl.destroy(d).catch((e) => ctx.log.warn(String(e), dom0.name));
      }
      await cloned?.stop();
    };
    ctx.defer(async () => {
      if (!tornDown && !ctx.dryRun) await teardown();
    });

    let failure: unknown;
    try {
      const t0 = performance.now();
      await ctx.step("parent: xl create", async () => {
        domains.add(p.name);
        await xl.create(config, { dir: p.xlConfigDir });
      });
      await ctx.step("parent: wait until it runs", async () => {
        if (!p.noNetwork) return await waitForGuestPing(dom0, p.guestIp, p.readyTimeoutMs);
        const id = await xl.domid(p.name);
        if (!ctx.dryRun && id === undefined) {
          throw new MissingError(`parent ${p.name} is not in xl list after xl create`);
        }
        result.parentDomid = id;
        if (p.readyMarker) {
          const log = consoleLogPaths(p.name, [], p.consoleLogDir)[0];
          await waitForConsoleMarker(dom0, log, p.readyMarker, p.readyTimeoutMs);
        }
      });
      if (!ctx.dryRun) ctx.metric("parent.ready", performance.now() - t0, "ms");

      if (cloneMissing) {
        await ctx.step("clone: needs the clone hypercall", () => Promise.reject(cloneMissing));
      } else if (p.trigger !== "none") {
        const what = p.trigger === "xl-clone" ? `xl clone -b ${p.clones}` : `${p.clones} TCP fork message(s)`;
        await ctx.step(`clone: ${what}`, async () => {
          if (p.trigger === "xl-clone") return await xlClone(dom0, p.name, p.clones, p.sudo);
          for (let i = 0; i < p.clones; i++) {
            if (p.forkFrom === "dom0") await sendForkFromDom0(dom0, p.guestIp, p.forkPort);
            else await sendForkFromController(p.guestIp, p.forkPort);
          }
        });
        const t1 = performance.now();
        const children = await ctx.step(
          "clone: wait for the children in xl list",
          () => waitForChildren(xl, p.name, p.clones, p.cloneTimeoutMs),
        );
        for (const c of children) domains.add(c.name);
        if (!ctx.dryRun) {
          ctx.metric("clone.children_visible", performance.now() - t1, "ms");
          result.children = children.map((c) => ({ name: c.name, domid: c.id }));
        }
      }
    } catch (e) {
      failure = e;
    }

    try {
      await ctx.step("collect: xencloned completions, console logs, time reports", async () => {
        const log = await cloned?.read();
        const ids = ((result.children as { domid: number }[] | undefined) ?? []).map((c) => c.domid);
        const paths = consoleLogPaths(p.name, ids, p.consoleLogDir);
        if (ctx.dryRun) {
          ctx.plan({ kind: "ssh", target: dom0.name, action: `cat ${paths.join(" ")} and each child's` });
          return;
        }
        if (log) {
          for (const c of log.completions) ctx.metric("clone.completion", c.msec, "ms", { domid: String(c.domid) });
          result.completions = log.completions;
          result.completionStats = completionStats(log.completions);
          if (log.errors.length) result.xenclonedErrors = log.errors;
        }
        const logs: string[] = [];
        for (const path of paths) {
          const r = await dom0.run({ cmd: `cat ${shQuote(path)}` }, { check: false, stream: false, timeout: 30_000 });
          if (r.exitCode === 0) {
            await ctx.artifact(path.split("/").at(-1)!, r.stdout, "text/plain");
            logs.push(path);
          } else ctx.log.warn(`no console log ${path}`, dom0.name);
        }
        result.consoleLogs = logs;
        if (collector) {
          if (p.expectReports > 0 && !failure) {
            await collector.waitForReports(p.expectReports, p.readyTimeoutMs, ctx.signal);
          }
          result.timeReports = collector.reports;
          result.timeReportResends = collector.duplicates;
        }
      });
    } catch (e) {
      if (failure === undefined) failure = e;
      else ctx.log.warn(`collect after a failure: ${String(e)}`, dom0.name);
    }

    const what = p.keepDomains ? "keep domains" : "destroy children and parent";
    await ctx.step(`teardown: ${what}${cloned || ctx.dryRun ? ", stop xencloned" : ""}`, teardown);
    if (failure !== undefined) throw failure;
    return result;
  },
});

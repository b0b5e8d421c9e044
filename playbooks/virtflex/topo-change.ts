/**
 * Virtflex: expand or shrink a Xen guest's NUMA topology through xenstore, as rice-systems/Virtflex does it —
 * vCPUs online/offline (per-CPU availability or `xl vcpu-set`), `numa/topo_change` 1|2 then chmod `b`, the node's
 * target in KiB (shrink: (80 + MB/1024×17)×1024), completion when the guest's balloon driver resets topo_change to 0
 * (the time it took is the metric `virtflex.topo_change_ms`), optional one-to-one vCPU pinning.
 *
 * `deno task play virtflex/topo-change --domain ubu-pv0 --action shrink --node 1 [--xenstore /path/socket]`
 * On a TTY, a missing domain/action/node is asked for (running domains listed, then a confirmation);
 * otherwise flags are required. `--dry-run` prints every xenstore write and xl command.
 * Where there is no Xen, point `--xenstore` at the embedded xenstored (`deno task xenstored`).
 */
import { z } from "zod";
import { confirm, select } from "prompts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { CancelledError, InputError } from "../../lib/core/errors.ts";
import type { RunContext } from "../../lib/core/context.ts";
import { domainHome, readTopology, type VirtflexTopology, Xl } from "../../lib/xen/mod.ts";
import { EMBEDDED_MARK_PATH, openXenstore, type XenstoreClient } from "../../lib/xenstore/mod.ts";
import { BALLOON_DOUBLE_MARK_PATH } from "../../lib/xenstore/testing/mod.ts";
import {
  checkSubtree,
  pinningPlan,
  resolveRequest,
  sendChange,
  type TopoAction,
  type TopoChangeSpec,
  waitForCompletion,
} from "./procedure.ts";

const Params = z.object({
  domain: z.string().optional().describe("guest name or domid (asked for on a TTY when missing)"),
  action: z.enum(["expand", "shrink"]).optional().describe("expand or shrink (asked for on a TTY when missing)"),
  node: z.number().int().min(0).optional().describe("virtual NUMA node to change (asked for on a TTY when missing)"),
  sizeMb: z.number().int().positive().optional().describe("node memory in MB for the target (default: its capacity)"),
  vcpuMethod: z.enum(["availability", "vcpu-set"]).default("availability")
    .describe("bring vCPUs online per CPU (cpu/<c>/availability) or with xl vcpu-set (expand only)"),
  timeoutS: z.number().positive().max(3600).default(120).describe("give up waiting for topo_change=0 after this"),
  pollMs: z.number().int().min(10).max(10_000).default(500).describe("topo_change polling interval"),
  pin: z.boolean().default(false).describe("pin guest vCPU v to pCPU v+offset and dom0 vCPU n to pCPU n first"),
  pinOffset: z.number().int().min(0).default(0).describe("pCPU offset for guest vCPU pinning"),
  dom0Vcpus: z.number().int().min(0).optional().describe("dom0 vCPUs to pin (default: from xl vcpu-list)"),
  xenstore: z.string().optional().describe("xenstored socket (default: libxenstore's; e.g. the embedded one)"),
  via: z.enum(["libxenstore", "wire"]).default("libxenstore").describe("xenstore client: Xen's C library or ours"),
  yes: z.boolean().default(false).describe("skip the confirmation on a TTY"),
});
type P = z.infer<typeof Params>;

function interactive(): boolean {
  try {
    return Deno.stdin.isTerminal() && Deno.stderr.isTerminal() && !Deno.env.get("CI");
  } catch {
    return false;
  }
}

interface DomainEntry {
  domid: number;
  name: string;
}

async function runningDomains(xs: XenstoreClient): Promise<DomainEntry[]> {
  const out: DomainEntry[] = [];
  for (const id of (await xs.list("/local/domain")) ?? []) {
    if (!/^\d+$/.test(id) || id === "0") continue;
    out.push({ domid: Number(id), name: (await xs.read(`${domainHome(Number(id))}/name`)) ?? "" });
  }
  return out.sort((a, b) => a.domid - b.domid);
}

async function resolveDomain(xs: XenstoreClient, given: string | undefined, ask: boolean): Promise<DomainEntry> {
  const doms = await runningDomains(xs);
  const listed = doms.map((d) => `${d.name || "?"} (${d.domid})`).join(", ") || "none found";
  if (given === undefined) {
    if (!ask) throw new InputError("--domain", `a guest name or domid (running: ${listed})`);
    if (!doms.length) throw new InputError("--domain", "a running guest, but xenstore lists none");
    return await select({
      message: "Domain",
      choices: doms.map((d) => ({ name: `${d.name || "(no name)"}  domid ${d.domid}`, value: d })),
    });
  }
  const hit = /^\d+$/.test(given) ? doms.find((d) => d.domid === Number(given)) : doms.find((d) => d.name === given);
  if (!hit) throw new InputError("--domain", `a running guest (${listed})`, given);
  return hit;
}

async function resolveAction(given: TopoAction | undefined, ask: boolean): Promise<TopoAction> {
  if (given) return given;
  if (!ask) throw new InputError("--action", "expand or shrink");
  return await select({
    message: "Action",
    choices: [{ name: "expand", value: "expand" }, { name: "shrink", value: "shrink" }],
  });
}

async function resolveNode(topo: VirtflexTopology, given: number | undefined, ask: boolean): Promise<number> {
  if (given !== undefined) return given;
  const ids = topo.nodes.map((n) => n.id);
  if (!ask) throw new InputError("--node", `a virtual NUMA node of domain ${topo.domid}: ${ids.join(", ") || "none"}`);
  return await select({
    message: "Virtual NUMA node",
    choices: topo.nodes.map((n) => ({
      name: `node ${n.id}  pnode ${n.pnode ?? "?"}  vCPUs ${n.vcpus.join(",")}  target ${n.targetKiB ?? "?"} KiB`,
      value: n.id,
    })),
  });
}

async function pinStep(ctx: RunContext<P>, xl: Xl, topo: VirtflexTopology): Promise<number> {
  let dom0 = ctx.params.dom0Vcpus;
  if (dom0 === undefined) dom0 = (await xl.vcpuList("Domain-0")).length;
  const guest = topo.nodes.flatMap((n) => n.vcpus).sort((a, b) => a - b);
  const plan = pinningPlan(topo.domid, guest, dom0, ctx.params.pinOffset);
  for (const p of plan) await xl.vcpuPin(p.domain, p.vcpu, String(p.cpu));
  return plan.length;
}

export default definePlaybook({
  name: "virtflex/topo-change",
  description: "Virtflex: expand or shrink a Xen guest's NUMA topology via xenstore and time until the guest completes",
  params: Params,
  async run(ctx) {
    const p = ctx.params;
    const ask = interactive();
    const xs = await ctx.step("connect to xenstore", () => openXenstore({ socketPath: p.xenstore, via: p.via }));
    ctx.defer(() => xs.close());
    const xl = new Xl();
    const dom = await ctx.step("choose domain", () => resolveDomain(xs, p.domain, ask));
    const action = await resolveAction(p.action, ask);
    const topo = await ctx.step("read topology", () => readTopology(xs, dom.domid));
    const substrate = (await xs.read(EMBEDDED_MARK_PATH)) ?? "Xen xenstored";
    const double = await xs.read(`${domainHome(dom.domid)}/${BALLOON_DOUBLE_MARK_PATH}`);
    const guestSide = double ?? "guest kernel (no test-double mark in xenstore)";
    ctx.facts("xenstore", { target: xs.target, substrate, guestSide });
    if (double) ctx.log.warn(`guest side of domain ${dom.domid} is a ${double}`);
    ctx.facts(`domain-${dom.domid}`, topo);
    const warning = checkSubtree(topo);
    if (warning) ctx.log.warn(warning);
    if (topo.topoChange !== "0") {
      throw new InputError(
        "--domain",
        `a guest with no topology change in progress (numa/topo_change is ${JSON.stringify(topo.topoChange)})`,
        dom.name || dom.domid,
      );
    }
    const node = await resolveNode(topo, p.node, ask);
    const spec: TopoChangeSpec = { domid: dom.domid, action, node, sizeMb: p.sizeMb, vcpuMethod: p.vcpuMethod };
    const req = resolveRequest(topo, spec);
    const summary = `${action} domain ${dom.name || "?"} (${dom.domid}) node ${node}: target ${req.targetKiB} KiB ` +
      `(${req.sizeMb} MB), vCPUs ${req.vcpus.join(",") || "none"} ${action === "expand" ? "online" : "offline"}` +
      (req.vcpuSetCount !== undefined ? ` via xl vcpu-set ${req.vcpuSetCount}` : "");
    ctx.log.info(summary);
    if (ask && !p.yes && !ctx.dryRun && !(await confirm({ message: `${summary}. Go?`, default: true }))) {
      throw new CancelledError("not confirmed");
    }
    if (p.pin) {
      const pins = await ctx.step("pin vCPUs one-to-one", () => pinStep(ctx, xl, topo));
      ctx.log.info(`pinned ${pins} vCPUs`);
    }
    await ctx.step(`send ${action}`, () => sendChange(xs, xl, spec, req));
    if (ctx.dryRun) {
      const flag = `${domainHome(dom.domid)}/numa/topo_change`;
      ctx.plan({
        kind: "xenstore",
        target: xs.target,
        action: `watch and poll ${flag} (every ${p.pollMs} ms) until "0" (timeout ${p.timeoutS} s)`,
      });
      return {
        dryRun: true,
        domid: dom.domid,
        action,
        node,
        targetKiB: req.targetKiB,
        vcpus: req.vcpus,
        substrate,
        guestSide,
      };
    }
    const done = await ctx.step(
      "wait for topo_change = 0",
      (s) => waitForCompletion(xs, spec, { timeoutMs: p.timeoutS * 1000, pollMs: p.pollMs, signal: s.signal }),
      { timeoutMs: p.timeoutS * 1000 + 5000 },
    );
    ctx.metric("virtflex.topo_change_ms", done.ms, "ms", { action, node: String(node) });
    const after = await readTopology(xs, dom.domid);
    ctx.log.info(`${action} completed in ${done.ms.toFixed(0)} ms (${done.polls} polls)`);
    return {
      domid: dom.domid,
      name: dom.name,
      action,
      node,
      targetKiB: req.targetKiB,
      vcpus: req.vcpus,
      ms: done.ms,
      polls: done.polls,
      xenstore: xs.target,
      substrate,
      guestSide,
      after: { topoChange: after.topoChange, nodes: after.nodes, availability: after.availability },
    };
  },
});

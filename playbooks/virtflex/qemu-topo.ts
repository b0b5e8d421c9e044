/**
 * Virtflex on KVM/QEMU: the topology change of `virtflex/topo-change` (expand or shrink one guest NUMA node by vCPUs
 * and memory), done for real on a QEMU lab guest this playbook starts: two NUMA nodes (by default) with free vCPU
 * hotplug slots and a DIMM slot; expand = device_add of a vCPU into the node's slot (the guest onlines it, as
 * Virtflex's udev rule does) and object-add + device_add of a pc-dimm on the node (onlined as movable memory);
 * shrink = the guest offlines the DIMM's memory blocks, device_del + object-del, then offlines the vCPU and
 * device_del. Each change is confirmed in the guest through /sys/devices/system/node (nodeN/cpulist, nodeN/meminfo
 * MemTotal) and timed until the guest sees it (metrics `virtflex.qemu.*_ms`); topology before/after is stored as
 * facts and the artifact `qemu-topo.json`.
 *
 * One expand/shrink cycle per guest: on QEMU 7.2 under TCG, a device_add or a memory change after a vCPU unplug
 * crashes QEMU (a double free; unplugging further vCPUs works), so vCPUs are removed last and the guest not reused.
 *
 * `deno task play virtflex/qemu-topo [--action expand|shrink|both] [--node 1] [--vcpus 1] [--size-mb 128]`
 * `--dry-run` prints the QEMU command line, every QMP command and every guest command planned.
 */
import { definePlaybook } from "../../lib/core/playbook.ts";
import type { RunContext } from "../../lib/core/context.ts";
import { startGuest } from "../../lib/lab/guests_mod.ts";
import {
  type AddedCpu,
  type AddedDimm,
  confirmChange,
  deriveLayout,
  type GuestTopology,
  QemuTopoDriver,
  type QemuTopoParams,
  QemuTopoParamsSchema,
  type Removal,
  type TopoLayout,
} from "../../lib/virtflex/mod.ts";

type Ctx = RunContext<QemuTopoParams>;

/** What one expand did. */
interface Expanded {
  cpus: AddedCpu[];
  dimm: AddedDimm | null;
  after: GuestTopology | null;
}

/** Records one timing (null: not measured). */
type Recorder = ((metric: string, ms: number) => void) | null;

async function expand(
  ctx: Ctx,
  d: QemuTopoDriver,
  layout: TopoLayout,
  before: GuestTopology | null,
  record: Recorder,
): Promise<Expanded> {
  const metric = (name: string, ms: number) => !ctx.dryRun && record?.(name, ms);
  const info = (msg: string) => !ctx.dryRun && ctx.log.info(msg);
  const cpus: AddedCpu[] = [];
  for (let i = 0; i < layout.vcpus; i++) {
    const c = await ctx.step(`add vCPU ${i + 1}/${layout.vcpus} to node ${layout.node}`, () => d.addCpu());
    info(
      `vCPU ${c.id} (${JSON.stringify(c.props)}) is guest cpu${c.cpu}: present after ${c.presentMs.toFixed(0)} ms, ` +
        `onlined and in node${layout.node}/cpulist after ${c.nodeMs.toFixed(0)} ms`,
    );
    metric("virtflex.qemu.cpu_add.present_ms", c.presentMs);
    metric("virtflex.qemu.cpu_add.node_ms", c.nodeMs);
    cpus.push(c);
  }
  let dimm: AddedDimm | null = null;
  if (layout.sizeMb > 0) {
    dimm = await ctx.step(`add ${layout.sizeMb} MB DIMM to node ${layout.node}`, () => d.addDimm(layout.sizeMb));
    info(
      `DIMM ${dimm.id} at 0x${dimm.addr.toString(16)}: node MemTotal grown after ${dimm.nodeMs.toFixed(0)} ms`,
    );
    metric("virtflex.qemu.mem_add.node_ms", dimm.nodeMs);
  }
  const after = await ctx.step("confirm expand in the guest", async () => {
    const t = await d.snapshot();
    if (t && before) {
      confirmChange(before, t, {
        action: "expand",
        node: layout.node,
        cpus: cpus.map((c) => c.cpu),
        memKiB: layout.sizeMb * 1024,
      }, "expand");
    }
    return t;
  });
  return { cpus, dimm, after };
}

async function shrink(
  ctx: Ctx,
  d: QemuTopoDriver,
  layout: TopoLayout,
  grown: Expanded,
  record: Recorder,
): Promise<{ dimm: Removal | null; cpus: Removal[]; after: GuestTopology | null }> {
  const metric = (name: string, ms: number) => !ctx.dryRun && record?.(name, ms);
  const info = (msg: string) => !ctx.dryRun && ctx.log.info(msg);
  const before = grown.after;
  // Memory first, vCPUs last: on QEMU 7.2 under TCG, a device_add (vCPU) or a memory change (DIMM removal,
  // object-del) after a vCPU unplug kills QEMU ("double free or corruption", SIGSEGV) — every time it was tried here.
  let dimm: Removal | null = null;
  if (grown.dimm) {
    const plugged = grown.dimm;
    dimm = await ctx.step(
      `remove DIMM ${plugged.id} from node ${layout.node}`,
      () => d.removeDimm(plugged, before?.blockBytes ?? 128 << 20),
    );
    info(
      `DIMM ${plugged.id}: offlined in ${dimm.offlineMs.toFixed(0)} ms, DEVICE_DELETED after ` +
        `${dimm.deletedMs.toFixed(0)} ms, blocks gone in the guest after ${dimm.goneMs.toFixed(0)} ms`,
    );
    metric("virtflex.qemu.mem_remove.offline_ms", dimm.offlineMs);
    metric("virtflex.qemu.mem_remove.deleted_ms", dimm.deletedMs);
    metric("virtflex.qemu.mem_remove.gone_ms", dimm.goneMs);
  }
  const cpus: Removal[] = [];
  for (const c of [...grown.cpus].reverse()) {
    const r = await ctx.step(`remove vCPU ${c.id} (guest cpu${c.cpu})`, () => d.removeCpu(c));
    info(
      `vCPU ${c.id}: offline in ${r.offlineMs.toFixed(0)} ms, DEVICE_DELETED after ${r.deletedMs.toFixed(0)} ms, ` +
        `cpu${c.cpu} gone in the guest after ${r.goneMs.toFixed(0)} ms`,
    );
    metric("virtflex.qemu.cpu_remove.offline_ms", r.offlineMs);
    metric("virtflex.qemu.cpu_remove.deleted_ms", r.deletedMs);
    metric("virtflex.qemu.cpu_remove.gone_ms", r.goneMs);
    cpus.push(r);
  }
  const after = await ctx.step("confirm shrink in the guest", async () => {
    const t = await d.snapshot();
    if (t && before) {
      confirmChange(before, t, {
        action: "shrink",
        node: layout.node,
        cpus: grown.cpus.map((c) => c.cpu),
        memKiB: grown.dimm ? grown.dimm.sizeMb * 1024 : 0,
      }, "shrink");
    }
    return t;
  });
  return { dimm, cpus, after };
}

/** What one cycle (one guest) did. */
interface CycleResult {
  cycle: number;
  guest: string;
  accel: string;
  before: GuestTopology | null;
  expand: Expanded & { measured: boolean };
  shrink: Awaited<ReturnType<typeof shrink>> | null;
}

/** Samples per metric name, for the summary over cycles. */
type Samples = Map<string, number[]>;

async function cycle(ctx: Ctx, layout: TopoLayout, n: number, samples: Samples): Promise<CycleResult> {
  const p = ctx.params;
  const name = p.repeat > 1 ? `${p.name}-c${n}` : p.name;
  const key = (k: string) => (p.repeat > 1 ? `${k}#${n}` : k);
  const guest = await ctx.step(
    `start guest ${name} (${p.nodes} NUMA nodes, ${layout.bootCpus}/${layout.maxCpus} vCPUs)`,
    () => startGuest({ ...layout.guest, name, bootTimeoutMs: p.bootTimeoutS * 1000 }),
  );
  const tags = { node: String(p.node), accel: guest.accel.accel, cycle: String(n) };
  const d = new QemuTopoDriver(guest, layout, {
    node: p.node,
    timeoutMs: p.timeoutS * 1000,
    pollMs: p.pollMs,
    dry: ctx.dryRun,
  });
  if (n === 1) {
    const kernel = ctx.dryRun ? "" : (await guest.exec("uname -r")).stdout.trim();
    const version = await guest.qmp.version();
    ctx.facts("virtflex-qemu", {
      substrate: `QEMU ${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro} (${guest.accel.accel}: ` +
        `${guest.accel.reason}), guest Linux ${kernel || "?"}`,
      note: "real vCPU and DIMM hotplug through QMP on a QEMU lab guest (not Xen/Virtflex's balloon protocol); " +
        "one cycle per guest (QEMU 7.2/TCG crashes on device_add or memory changes after a vCPU unplug)",
      layout: { slots: layout.slots, memoryMiB: layout.guest.memoryMiB, nodeMemMb: layout.nodeMemMb },
    });
  }
  const before = await ctx.step("read guest topology", () => d.snapshot());
  if (before) ctx.facts(key("topology:before"), before);
  const record = (action: string) => (metric: string, ms: number) => {
    ctx.metric(metric, ms, "ms", { ...tags, action });
    samples.set(metric, [...(samples.get(metric) ?? []), ms]);
  };

  const doExpand = p.action !== "shrink";
  const grown = await ctx.step(
    doExpand ? `expand node ${p.node}` : `setup: expand node ${p.node} (not measured, to have something to remove)`,
    () => expand(ctx, d, layout, before, doExpand ? record("expand") : null),
  );
  if (grown.after) ctx.facts(key("topology:after-expand"), grown.after);
  let shrunk: Awaited<ReturnType<typeof shrink>> | null = null;
  if (p.action !== "expand") {
    shrunk = await ctx.step(`shrink node ${p.node}`, () => shrink(ctx, d, layout, grown, record("shrink")));
    if (shrunk.after) ctx.facts(key("topology:after-shrink"), shrunk.after);
  }
  await ctx.step(`shut guest ${name} down`, () => guest.shutdown());
  return {
    cycle: n,
    guest: name,
    accel: guest.accel.accel,
    before,
    expand: { ...grown, measured: doExpand },
    shrink: shrunk,
  };
}

/** Median, min and max of each metric over the cycles. */
function summarize(samples: Samples): Record<string, { n: number; medianMs: number; minMs: number; maxMs: number }> {
  const out: Record<string, { n: number; medianMs: number; minMs: number; maxMs: number }> = {};
  for (const [name, v] of samples) {
    const s = [...v].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    out[name] = { n: s.length, medianMs: median, minMs: s[0], maxMs: s[s.length - 1] };
  }
  return out;
}

export default definePlaybook({
  name: "virtflex/qemu-topo",
  description: "Virtflex on QEMU: hot-add/remove a vCPU and a DIMM on a guest NUMA node via QMP, timed until the " +
    "guest sees it in /sys/devices/system/node",
  params: QemuTopoParamsSchema,
  async run(ctx) {
    const p = ctx.params;
    const layout = deriveLayout(p);
    const samples: Samples = new Map();
    const cycles: CycleResult[] = [];
    for (let n = 1; n <= p.repeat; n++) {
      cycles.push(
        p.repeat > 1
          ? await ctx.step(`cycle ${n}/${p.repeat}`, () => cycle(ctx, layout, n, samples))
          : await cycle(ctx, layout, n, samples),
      );
    }
    const summary = summarize(samples);
    if (p.repeat > 1 && !ctx.dryRun) {
      for (const [name, v] of Object.entries(summary)) {
        ctx.log.info(
          `${name}: median ${v.medianMs.toFixed(0)} ms (min ${v.minMs.toFixed(0)}, max ${
            v.maxMs.toFixed(0)
          }, n ${v.n})`,
        );
      }
    }
    const first = cycles[0];
    const result = {
      dryRun: ctx.dryRun,
      action: p.action,
      node: p.node,
      vcpus: p.vcpus,
      sizeMb: p.sizeMb,
      ...first,
      cycles: p.repeat > 1 ? cycles : undefined,
      summary,
    };
    if (!ctx.dryRun) await ctx.artifact("qemu-topo.json", JSON.stringify(result, null, 2), "application/json");
    return result;
  },
});

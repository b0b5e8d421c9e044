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

async function expand(
  ctx: Ctx,
  d: QemuTopoDriver,
  layout: TopoLayout,
  before: GuestTopology | null,
  measured: boolean,
  tags: Record<string, string>,
): Promise<Expanded> {
  const metric = (name: string, ms: number) => measured && !ctx.dryRun && ctx.metric(name, ms, "ms", tags);
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
  tags: Record<string, string>,
): Promise<{ dimm: Removal | null; cpus: Removal[]; after: GuestTopology | null }> {
  const metric = (name: string, ms: number) => !ctx.dryRun && ctx.metric(name, ms, "ms", tags);
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

export default definePlaybook({
  name: "virtflex/qemu-topo",
  description: "Virtflex on QEMU: hot-add/remove a vCPU and a DIMM on a guest NUMA node via QMP, timed until the " +
    "guest sees it in /sys/devices/system/node",
  params: QemuTopoParamsSchema,
  async run(ctx) {
    const p = ctx.params;
    const layout = deriveLayout(p);
    const guest = await ctx.step(
      `start guest ${p.name} (${p.nodes} NUMA nodes, ${layout.bootCpus}/${layout.maxCpus} vCPUs)`,
      () => startGuest({ ...layout.guest, bootTimeoutMs: p.bootTimeoutS * 1000 }),
    );
    const tags = { node: String(p.node), accel: guest.accel.accel };
    const d = new QemuTopoDriver(guest, layout, {
      node: p.node,
      timeoutMs: p.timeoutS * 1000,
      pollMs: p.pollMs,
      dry: ctx.dryRun,
    });
    const kernel = ctx.dryRun ? "" : (await guest.exec("uname -r")).stdout.trim();
    const version = await guest.qmp.version();
    ctx.facts("virtflex-qemu", {
      substrate: `QEMU ${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro} (${guest.accel.accel}: ` +
        `${guest.accel.reason}), guest Linux ${kernel || "?"}`,
      note: "real vCPU and DIMM hotplug through QMP on a QEMU lab guest (not Xen/Virtflex's balloon protocol); " +
        "one cycle per guest (QEMU 7.2/TCG crashes on device_add or memory changes after a vCPU unplug)",
      layout: { slots: layout.slots, memoryMiB: layout.guest.memoryMiB, nodeMemMb: layout.nodeMemMb },
    });
    const before = await ctx.step("read guest topology", () => d.snapshot());
    if (before) ctx.facts("topology:before", before);

    const doExpand = p.action !== "shrink";
    const grown = await ctx.step(
      doExpand ? `expand node ${p.node}` : `setup: expand node ${p.node} (not measured, to have something to remove)`,
      () => expand(ctx, d, layout, before, doExpand, { ...tags, action: "expand" }),
    );
    if (grown.after) ctx.facts("topology:after-expand", grown.after);
    let shrunk: Awaited<ReturnType<typeof shrink>> | null = null;
    if (p.action !== "expand") {
      shrunk = await ctx.step(
        `shrink node ${p.node}`,
        () => shrink(ctx, d, layout, grown, { ...tags, action: "shrink" }),
      );
      if (shrunk.after) ctx.facts("topology:after-shrink", shrunk.after);
    }
    const result = {
      dryRun: ctx.dryRun,
      guest: guest.name,
      accel: guest.accel.accel,
      action: p.action,
      node: p.node,
      vcpus: p.vcpus,
      sizeMb: p.sizeMb,
      before,
      expand: { cpus: grown.cpus, dimm: grown.dimm, after: grown.after, measured: doExpand },
      shrink: shrunk,
    };
    if (!ctx.dryRun) await ctx.artifact("qemu-topo.json", JSON.stringify(result, null, 2), "application/json");
    await ctx.step("shut the guest down", () => guest.shutdown());
    return result;
  },
});

/**
 * The Xen lab host as an experiment: boot Xen 4.17 + dom0 in QEMU (TCG here) and record the boot times
 * (`xen_host.boot.ready`, `xen_host.boot.ssh_ready`), `xl info` as facts, and optionally a small PV guest created with
 * `xl create` from lib/xen's config model, its vCPUs pinned one-to-one, with what the guest reports about its CPUs,
 * memory and NUMA nodes (and the time from `xl create` to the guest's ready line). The host is stopped at the end.
 *
 * `deno task play xen/lab-host [--guest] [--cpus 2] [--numa-nodes 2] [--dry-run]`
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { createXenGuest, parseXenGuestView, startXenHost, XEN_GUEST_READY_MARKER } from "../../lib/lab/xen_host_mod.ts";
import { parseXlInfo } from "../../lib/xen/mod.ts";

const params = z.object({
  cpus: z.number().int().min(1).max(8).default(2).describe("physical CPUs the hypervisor sees"),
  numaNodes: z.number().int().min(1).max(8).default(2).describe("host NUMA nodes"),
  memoryMib: z.number().int().min(1024).max(16384).default(2048).describe("machine memory in MiB"),
  guest: z.boolean().default(false).describe("also create a 256 MiB PV guest with 2 pinned vCPUs and read its view"),
  keep: z.boolean().default(false).describe("keep the host up until Ctrl-C (prints the ssh command)"),
});

export default definePlaybook({
  name: "xen/lab-host",
  description: "Boot the Xen lab host (Xen 4.17 + dom0 in QEMU), record boot times and xl info, optionally a PV guest",
  params,
  async run(ctx) {
    const p = ctx.params;
    const host = await ctx.step(
      "boot Xen + dom0",
      () => startXenHost({ name: "xen0", cpus: p.cpus, numaNodes: p.numaNodes, memoryMiB: p.memoryMib }),
      {
        timeoutMs: 600_000,
      },
    );
    ctx.defer(() => host.stop());
    if (ctx.dryRun) return { dryRun: true };
    const info = await ctx.step("xl info", async () => parseXlInfo(await host.execOk("xl info")));
    ctx.facts("xen0", { xlInfo: info, bootTimes: host.bootTimes, xen: host.image?.xen.debVersion });
    const result: Record<string, unknown> = { bootTimes: host.bootTimes, xen: host.image?.xen.debVersion };
    if (p.guest) {
      result.guest = await ctx.step("PV guest: xl create, pin, guest view, destroy", async () => {
        const t0 = performance.now();
        const g = await createXenGuest(host, {
          name: "hlguest",
          type: "pv",
          memory: 256,
          vcpus: 2,
          cpus: "0-1",
          on_poweroff: "destroy",
        });
        ctx.metric("xen_guest.create", performance.now() - t0, "ms");
        const xl = host.xl();
        for (let v = 0; v < 2; v++) await xl.vcpuPin(g.name, v, String(v % p.cpus));
        const text = await g.waitForConsole(new RegExp(XEN_GUEST_READY_MARKER), 240_000);
        ctx.metric("xen_guest.ready", performance.now() - t0, "ms");
        await ctx.artifact("guest-hlguest-console.log", text, "text/plain");
        const view = parseXenGuestView(text);
        const pins = (await xl.vcpuList(g.name)).map((r) => ({ vcpu: r.vcpu, hard: r.hard }));
        await g.destroy();
        return { domid: g.domid, view, pins };
      }, { timeoutMs: 600_000 });
    }
    if (p.keep) {
      ctx.log.info(
        `Xen lab host up: ssh root@127.0.0.1 -p ${host.endpoint.port} -i ${host.endpoint.key} (Ctrl-C ends)`,
      );
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    }
    return result;
  },
});

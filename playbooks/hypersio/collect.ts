/**
 * `hypersio/collect`: the whole HyperSIO pipeline on stock parts of this machine. Boots a lab guest under QEMU with
 * an emulated intel-iommu and one virtio-net per tenant (DMA through the IOMMU), makes each tenant send ICMP echo
 * traffic to its own QEMU-internal gateway, collects QEMU's `vtd_*` trace events to a log, builds the hyper-tenant
 * trace and runs the model. The result states which fields stock QEMU could not provide (level/pmask derived from
 * the SLPTE PS bit; no `vtd_slpte_fetch` walk reads) — the reference used a patched QEMU 3.0 for those.
 */
import { z } from "zod";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { buildTrace, collectIommuLog, formatReport, runModel } from "../../lib/hypersio/mod.ts";

export default definePlaybook({
  name: "hypersio/collect",
  description: "Collect IOMMU logs from a QEMU guest (intel-iommu, one NIC per tenant), build the trace, run the model",
  params: z.object({
    tenants: z.number().int().min(1).max(12).default(4).describe("tenant NICs (PCI 00:02.0 …)"),
    pings: z.number().int().min(1).max(100_000).default(200).describe("ICMP echo requests per tenant"),
    intervalS: z.number().min(0.001).max(10).default(0.02).describe("seconds between one tenant's echoes"),
    payloadBytes: z.number().int().min(0).max(1472).default(1400).describe("echo payload bytes"),
    outDir: z.string().default(".hyperlab/hypersio/collected").describe("where the log and trace go"),
    order: z.enum(["rr", "rand", "orig"]).default("rr").describe("trace interleaving"),
  }),
  async run(ctx) {
    const p = ctx.params;
    const c = await ctx.step("collect IOMMU log in a guest", () =>
      collectIommuLog({
        tenants: p.tenants,
        pingsPerTenant: p.pings,
        intervalS: p.intervalS,
        payloadBytes: p.payloadBytes,
        dir: p.outDir,
        signal: ctx.signal,
      }), { timeoutMs: 15 * 60_000 });
    if (ctx.dryRun) {
      ctx.plan({
        kind: "file",
        target: p.outDir,
        action: `build the ${p.order}3 trace of ${c.logPath} and run the model`,
      });
      return { dryRun: true, log: c.logPath };
    }
    ctx.metric("log_lines", c.logLines, "lines");
    c.replies.forEach((n, i) => ctx.metric("echo_replies", n, "count", { tenant: String(i) }));
    const b = await ctx.step(
      "build trace",
      () => buildTrace({ logPrefix: c.logPrefix, tenants: p.tenants, order: p.order, outDir: p.outDir, name: "stock" }),
    );
    ctx.metric("translations", b.translations, "records");
    ctx.metric("tenants", b.tenants, "count");
    const m = await ctx.step("model", () => runModel(b.files.iotlb, {}, {}, ctx.signal));
    const report = formatReport(m);
    console.log(report);
    await ctx.artifact("report.txt", report, "text/plain");
    ctx.metric("utilization", m.utilization, "ratio");
    ctx.metric("throughput", m.mbps, "Mb/s");
    ctx.metric("iotlb_hit_rate", m.caches.IOTLB.hit / Math.max(1, m.caches.IOTLB.hit + m.caches.IOTLB.miss), "ratio");
    for (const miss of b.missing) ctx.log.warn(`stock QEMU could not provide: ${miss}`);
    return {
      accel: c.accel,
      log: c.logPath,
      logLines: c.logLines,
      replies: c.replies,
      trace: b.files,
      translations: b.translations,
      tenants: b.tenants,
      stockQemuMissing: b.missing,
      model: { elapsedNs: m.elapsedNs, mbps: m.mbps, utilization: m.utilization, droppedPackets: m.droppedPackets },
    };
  },
});

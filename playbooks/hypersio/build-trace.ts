/**
 * `hypersio/build-trace`: the Trace Constructor. Builds the three binary trace files of N tenants from IOMMU logs
 * `<logPrefix>_<k>.txt` (QEMU `log` backend, reference-patched or stock format). With `--synthetic` it first writes
 * synthetic logs (SIMULATED, stated in the result) so the pipeline can be tried without collected logs.
 */
import { z } from "zod";
import { effect } from "../../lib/core/ambient.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import { buildTrace, writeSyntheticLog } from "../../lib/hypersio/mod.ts";

export default definePlaybook({
  name: "hypersio/build-trace",
  description: "Build a hyper-tenant trace (rr/rand/orig, bursts, DID renumbering, nat links) from IOMMU logs",
  params: z.object({
    logPrefix: z.string().default(".hyperlab/hypersio/logs/synthetic_vm_8").describe(
      "log path prefix: logs are <prefix>_0.txt, <prefix>_1.txt, …",
    ),
    tenants: z.number().int().min(1).max(65535).default(8).describe("tenants N"),
    devicesPerLog: z.number().int().min(1).max(256).optional().describe(
      "devices per log (default: _vm_<D>_ in the prefix)",
    ),
    order: z.enum(["rr", "rand", "orig"]).default("rr").describe("interleaving of tenants"),
    burst: z.number().int().min(1).max(100_000).default(1).describe("packets per tenant turn (3 records each)"),
    outDir: z.string().default(".hyperlab/hypersio/traces").describe("output directory"),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/).default("trace").describe("test name used in the file names"),
    sidCollisions: z.boolean().default(true).describe(
      "reference quirk: SID + 128·log (collides beyond 14 devices/log)",
    ),
    synthetic: z.boolean().default(false).describe(
      "first write SIMULATED synthetic logs at the prefix (devices per log from _vm_<D>_, 2000 translations each)",
    ),
  }),
  async run(ctx) {
    const p = ctx.params;
    if (ctx.dryRun) {
      // Everything below writes files: under --dry-run only the plan is recorded.
      const what = `${p.order}${3 * p.burst} trace of ${p.tenants} tenants from ${p.logPrefix}_<k>.txt`;
      if (p.synthetic) ctx.plan({ kind: "file", target: `${p.logPrefix}_<k>.txt`, action: "write synthetic logs" });
      await effect({ kind: "file", target: p.outDir, action: `write ${what}` }, () => null, () => null);
      return { dryRun: true };
    }
    if (p.synthetic) {
      await ctx.step("write synthetic logs (simulated)", async () => {
        const dir = p.logPrefix.replace(/\/[^/]*$/, "");
        await Deno.mkdir(dir, { recursive: true });
        const perLog = p.devicesPerLog ?? Number(/_vm_(\d+)/.exec(p.logPrefix)?.[1] ?? 8);
        for (let k = 0; k * perLog < p.tenants; k++) {
          await writeSyntheticLog(`${p.logPrefix}_${k}.txt`, {
            devices: perLog,
            translationsPerDevice: 2000,
            seed: k + 1,
          });
        }
      });
    }
    const r = await ctx.step("build trace", () =>
      buildTrace({
        logPrefix: p.logPrefix,
        tenants: p.tenants,
        devicesPerLog: p.devicesPerLog,
        order: p.order,
        consec: 3 * p.burst,
        outDir: p.outDir,
        name: p.name,
        sidCollisions: p.sidCollisions,
        signal: ctx.signal,
      }));
    ctx.metric("translations", r.translations, "records");
    ctx.metric("tenants", r.tenants, "count");
    ctx.metric("log_lines", r.logs.reduce((a, l) => a + l.lines, 0), "lines");
    for (const m of r.missing) ctx.log.warn(`stock QEMU log: missing ${m}`);
    console.log(
      `trace: ${r.files.iotlb}\n  ${r.translations} translations, ${r.tenants} tenants, ${r.walks} walk entries`,
    );
    return { ...r, simulatedLogs: p.synthetic };
  },
});

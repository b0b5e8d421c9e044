/**
 * The main job: runs on any fresh machine, records a run, and prints a short summary of host facts (including KVM
 * capabilities) and of the experiments this machine can run locally.
 */
import { z } from "zod";
import { definePlaybook } from "../lib/core/playbook.ts";
import { MissingError } from "../lib/core/errors.ts";
import { basicHostFacts } from "../lib/core/provenance.ts";
import { kvmFacts } from "../lib/kvm/facts.ts";
import { printSummaryTable } from "../lib/cli/table.ts";

export default definePlaybook({
  name: "quickstart",
  description: "Host facts (incl. KVM capabilities) and the local experiments this machine can run, recorded",
  params: z.object({
    kvmDevice: z.string().default("/dev/kvm").describe("KVM device to query"),
    ffiCalls: z.number().int().min(1000).max(10_000_000).default(200_000).describe("FFI calls for the latency probe"),
  }),
  async run(ctx) {
    const rows: [string, string][] = [];
    const host = await ctx.step("host facts", () => basicHostFacts());
    ctx.facts("local", host);
    rows.push(["host", `${host.hostname} · ${host.os} · kernel ${host.kernel}`]);
    rows.push(["cpus / memory", `${host.cpus} · ${(Number(host.memBytes) / 2 ** 30).toFixed(1)} GiB`]);

    const kvm = await ctx.step("KVM capabilities", () => {
      try {
        return kvmFacts(ctx.params.kvmDevice);
      } catch (e) {
        if (e instanceof MissingError) {
          ctx.log.warn(e.message);
          return null;
        }
        throw e;
      }
    });
    if (kvm) {
      ctx.facts("local/kvm", kvm);
      const on = Object.entries(kvm.caps).filter(([, v]) => v > 0).map(([k]) => k);
      rows.push(["KVM", `API ${kvm.apiVersion} · vCPU mmap ${kvm.vcpuMmapSize} B · max vCPUs ${kvm.caps.MAX_VCPUS}`]);
      rows.push(["KVM caps", `${on.length}/${Object.keys(kvm.caps).length}: ${on.join(" ")}`]);
      const missing = Object.entries(kvm.caps).filter(([, v]) => v === 0).map(([k]) => k);
      if (missing.length) rows.push(["KVM caps absent", missing.join(" ")]);
      ctx.metric("kvm.api_version", kvm.apiVersion);
      ctx.metric("kvm.max_vcpus", kvm.caps.MAX_VCPUS);
    } else {
      rows.push(["KVM", `absent (${ctx.params.kvmDevice})`]);
    }

    if (kvm) {
      const ns = await ctx.step("FFI call latency", () => ffiLatency(ctx.params.kvmDevice, ctx.params.ffiCalls));
      ctx.metric("ffi.sync_call", ns, "ns");
      rows.push([
        "FFI sync call",
        `${ns.toFixed(1)} ns (KVM_CHECK_EXTENSION through the shim, ${ctx.params.ffiCalls} calls)`,
      ]);
    }

    printSummaryTable("hyperlab quickstart", rows);
    return { kvm: kvm !== null };
  },
});

async function ffiLatency(device: string, n: number): Promise<number> {
  const { kvmShim } = await import("../lib/kvm/ffi.ts");
  const { toCString } = await import("../lib/ffi/loader.ts");
  const { check } = await import("../lib/ffi/errno.ts");
  const k = kvmShim();
  const fd = check("open " + device, k.hl_kvm_open(toCString(device)));
  try {
    for (let i = 0; i < 1000; i++) k.hl_kvm_check_extension(fd, 3);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) k.hl_kvm_check_extension(fd, 3);
    return ((performance.now() - t0) * 1e6) / n;
  } finally {
    k.hl_close(fd);
  }
}

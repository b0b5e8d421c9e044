/**
 * The main job: runs on any fresh machine, records a run, and prints a short summary of host facts (including KVM
 * capabilities) and of the real experiments this machine can run locally: a KVM micro-VM booted and cloned through
 * our own shim, the embedded xenstored driven by Xen's libxenstore, and remote memory over loopback TCP. A probe
 * whose substrate is absent is reported as such, with the reason, and the rest go on.
 */
import { z } from "zod";
import { definePlaybook } from "../lib/core/playbook.ts";
import { formatError, MissingError } from "../lib/core/errors.ts";
import { basicHostFacts } from "../lib/core/provenance.ts";
import type { RunContext } from "../lib/core/context.ts";
import { kvmFacts } from "../lib/kvm/facts.ts";
import { printSummaryTable } from "../lib/cli/table.ts";

const params = z.object({
  kvmDevice: z.string().default("/dev/kvm").describe("KVM device to query"),
  ffiCalls: z.number().int().min(1000).max(10_000_000).default(200_000).describe("FFI calls for the latency probe"),
  instances: z.number().int().min(1).max(1000).default(20).describe("micro-VMs booted and cloned (each)"),
  guestMemory: z.number().int().min(4).max(1024).default(32).describe("micro-VM memory in MiB"),
  roundTrips: z.number().int().min(10).max(1_000_000).default(2000).describe("xenstore and rmem round trips"),
});

type Ctx = RunContext<z.infer<typeof params>>;

/** Runs one probe as a step; a probe that throws is reported in the table and does not end the run. */
async function probe(ctx: Ctx, rows: [string, string][], label: string, fn: () => Promise<string>): Promise<void> {
  try {
    rows.push([label, await ctx.step(label, fn)]);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    const why = e instanceof MissingError ? `absent: ${e.message}` : `failed: ${formatError(e).split("\n")[0]}`;
    ctx.log.warn(`${label}: ${why}`);
    rows.push([label, why]);
  }
}

export default definePlaybook({
  name: "quickstart",
  description: "Host facts (incl. KVM capabilities) and the local experiments this machine can run, recorded",
  params,
  async run(ctx) {
    const p = ctx.params;
    const rows: [string, string][] = [];
    const host = await ctx.step("host facts", () => basicHostFacts());
    ctx.facts("local", host);
    rows.push(["host", `${host.hostname} · ${host.os} · kernel ${host.kernel}`]);
    rows.push(["cpus / memory", `${host.cpus} · ${(Number(host.memBytes) / 2 ** 30).toFixed(1)} GiB`]);

    let kvm = false;
    await probe(ctx, rows, "KVM", () => {
      const f = kvmFacts(p.kvmDevice);
      kvm = true;
      ctx.facts("local/kvm", f);
      ctx.metric("kvm.api_version", f.apiVersion);
      ctx.metric("kvm.max_vcpus", f.caps.MAX_VCPUS);
      const on = Object.entries(f.caps).filter(([, v]) => v > 0).map(([k]) => k);
      const off = Object.entries(f.caps).filter(([, v]) => v === 0).map(([k]) => k);
      return Promise.resolve(
        `API ${f.apiVersion} · vCPU mmap ${f.vcpuMmapSize} B · max vCPUs ${f.caps.MAX_VCPUS}\n` +
          `caps ${on.length}/${on.length + off.length}: ${on.join(" ")}${
            off.length ? `\nabsent: ${off.join(" ")}` : ""
          }`,
      );
    });

    if (kvm) {
      await probe(ctx, rows, "FFI sync call", async () => {
        const ns = await ffiLatency(p.kvmDevice, p.ffiCalls);
        ctx.metric("ffi.sync_call", ns, "ns");
        return `${ns.toFixed(1)} ns per KVM_CHECK_EXTENSION through the shim (${p.ffiCalls} calls)`;
      });
      await probe(ctx, rows, "micro-VM boot vs clone", async () => {
        const { bootVsClone } = await import("./_quickstart/kvm_clone.ts");
        const r = await bootVsClone(p.instances, p.guestMemory);
        ctx.metric("kvm.boot_to_report", r.bootMs, "ms");
        ctx.metric("kvm.clone_to_report", r.cloneMs, "ms");
        return `${p.guestMemory} MiB guest, median of ${p.instances}: boot ${r.bootMs.toFixed(2)} ms, ` +
          `copy-on-write clone ${r.cloneMs.toFixed(2)} ms (${(r.bootMs / r.cloneMs).toFixed(1)}× faster)`;
      });
    }

    await probe(ctx, rows, "xenstore (embedded)", async () => {
      const { xenstoreRoundTrips } = await import("./_quickstart/xenstore_rt.ts");
      const r = await xenstoreRoundTrips(p.roundTrips);
      if (r.value !== "world") throw new Error(`read back ${JSON.stringify(r.value)}, expected "world"`);
      ctx.metric("xenstore.reads_per_s", r.readsPerSec, "1/s");
      return `${Math.round(r.readsPerSec)} reads/s through libxenstore (FFI) against the embedded xenstored`;
    });

    await probe(ctx, rows, "remote memory (TCP)", async () => {
      const { rmemLatency } = await import("./_quickstart/rmem_rt.ts");
      const r = await rmemLatency(p.roundTrips);
      if (!r.intact) throw new Error("a 4 KiB page read back differs from what was written");
      ctx.metric("rmem.write_p50", r.writeP50Us, "us");
      ctx.metric("rmem.read_p50", r.readP50Us, "us");
      return `4 KiB over loopback: write p50 ${r.writeP50Us.toFixed(1)} µs, read p50 ${r.readP50Us.toFixed(1)} µs`;
    });

    rows.push(["next", "deno task play --list · deno task results show <id> · deno task bench"]);
    printSummaryTable(`hyperlab quickstart (run ${ctx.runId})`, rows);
    return { kvm, probes: rows.map(([k, v]) => ({ probe: k, result: v })) };
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

/**
 * Nephele's evaluation, for real on KVM: hyperlab's micro-VMM clones a running guest copy-on-write (lib/kvm/vmm).
 * Three parts, shaped like the paper's: instantiation time of boot vs clone over many sequential instances, fork
 * duration vs guest memory size, and density (instances within a memory budget, booted vs cloned, each touching a
 * set fraction of its memory). Every sample is a metric; each part also stores an SVG plot.
 *
 * The guest is ffi/guests/app.c: its boot initialises `bootInit` of its RAM (as a booted Xen domain has all its
 * memory allocated), asks to be cloned, reports "ready", then writes its own working set. Memory is measured as PSS
 * growth of this process (/proc/self/smaps_rollup).
 *
 * `deno task play nephele/kvm-clone --instances 200 --memory 32`
 */
import { z } from "zod";
import { effect } from "../../lib/core/ambient.ts";
import { definePlaybook } from "../../lib/core/playbook.ts";
import {
  type AppSpec,
  appTemplate,
  checkAppSpec,
  type DensityResult,
  fractionKiB,
  guestImage,
  kvmFacts,
  measureDensity,
  timeBoot,
  timeClone,
  timeFork,
} from "../../lib/kvm/mod.ts";
import { barChart, lineChart } from "../../lib/plot/mod.ts";

const PARTS = ["instantiation", "fork", "density"] as const;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function spec(memoryMiB: number, bootInit: number, touched: number): AppSpec {
  return checkAppSpec({
    memoryMiB,
    bootInitKiB: fractionKiB(memoryMiB, bootInit),
    touchKiB: fractionKiB(memoryMiB, touched),
  }, "nephele/kvm-clone");
}

export default definePlaybook({
  name: "nephele/kvm-clone",
  description: "VM cloning on KVM (Nephele's evaluation): boot vs clone instantiation, fork duration vs size, density",
  params: z.object({
    parts: z.array(z.enum(PARTS)).min(1).default([...PARTS]).describe("which parts to run"),
    instances: z.number().int().min(2).max(5000).default(100).describe("sequential instances booted and cloned"),
    memory: z.number().int().min(4).max(1024).default(32).describe("guest RAM in MiB (Nephele's guest: 32)"),
    bootInit: z.number().min(0).max(1).default(1).describe("fraction of RAM the guest initialises while booting"),
    forkSizes: z.array(z.number().int().min(4).max(2048)).min(1).default([16, 32, 64, 128, 256])
      .describe("guest sizes (MiB) for fork duration"),
    forkSamples: z.number().int().min(1).max(50).default(3).describe("forks per size"),
    touched: z.number().min(0).max(1).default(0.1).describe("fraction of RAM each instance writes (density)"),
    budget: z.number().int().min(16).max(65536).default(512).describe("memory budget of the density part, MiB"),
  }),
  async run(ctx) {
    const p = ctx.params;
    const main = spec(p.memory, p.bootInit, 64 / 1024 / p.memory);
    const dense = spec(p.memory, p.bootInit, p.touched);
    const result: Record<string, unknown> = { substrate: "KVM micro-VM (hyperlab's own VMM and CoW cloning)" };

    await ctx.step(
      "KVM and guests",
      () =>
        effect({ kind: "kvm", target: "/dev/kvm", action: "query KVM facts; make -C ffi guests" }, () => {
          ctx.facts("local/kvm", kvmFacts());
          guestImage("app");
        }, () => undefined),
    );

    if (p.parts.includes("instantiation")) {
      const r = await ctx.step("instantiation: boot vs clone", () =>
        effect({
          kind: "kvm",
          target: "/dev/kvm",
          action: `${p.instances}× boot an app micro-VM (${p.memory} MiB) to its first report, and ${p.instances}× ` +
            `clone one from a template paused at its fork request, interleaved`,
        }, async () => {
          using template = await appTemplate(main, "nephele");
          const boot: number[] = [], clone: number[] = [];
          for (let i = 0; i < p.instances; i++) {
            ctx.throwIfCancelled();
            const b = await timeBoot(main);
            b.vm.close();
            boot.push(b.ms);
            ctx.metric("instantiation.boot", b.ms, "ms", { instance: String(i) });
            const c = await timeClone(template);
            c.vm.close();
            clone.push(c.ms);
            ctx.metric("instantiation.clone", c.ms, "ms", { instance: String(i) });
          }
          return { boot, clone };
        }, () => null));
      if (r) {
        const s = {
          bootMeanMs: mean(r.boot),
          bootMedianMs: median(r.boot),
          cloneMeanMs: mean(r.clone),
          cloneMedianMs: median(r.clone),
          speedupMedian: median(r.boot) / median(r.clone),
        };
        ctx.metric("instantiation.speedup_median", s.speedupMedian, "x");
        ctx.log.info(
          `instantiation: boot ${s.bootMedianMs.toFixed(2)} ms, clone ${s.cloneMedianMs.toFixed(2)} ms (median) → ` +
            `${s.speedupMedian.toFixed(1)}×`,
        );
        await ctx.artifact(
          "instantiation.svg",
          lineChart({
            title: `Instantiation time, ${p.memory} MiB guest, ${p.instances} sequential instances`,
            xLabel: "instance",
            yLabel: "ms to first report",
            series: [
              { name: "boot", points: r.boot.map((v, i) => [i, v]) },
              { name: "clone", points: r.clone.map((v, i) => [i, v]) },
            ],
          }),
          "image/svg+xml",
        );
        result.instantiation = s;
      }
    }

    if (p.parts.includes("fork")) {
      const r = await ctx.step("fork duration vs memory size", () =>
        effect({
          kind: "kvm",
          target: "/dev/kvm",
          action: `for ${p.forkSizes.join(", ")} MiB: ${p.forkSamples}× boot a template to its fork request, ` +
            `clone it, run both on, clone the parent again`,
        }, async () => {
          const rows: { sizeMiB: number; firstMs: number; againMs: number }[] = [];
          for (const size of p.forkSizes) {
            const first: number[] = [], again: number[] = [];
            for (let i = 0; i < p.forkSamples; i++) {
              ctx.throwIfCancelled();
              const f = await timeFork(spec(size, p.bootInit, 0));
              first.push(f.firstMs);
              again.push(f.againMs);
              ctx.metric("fork.first", f.firstMs, "ms", { memory_mib: String(size) });
              ctx.metric("fork.again", f.againMs, "ms", { memory_mib: String(size) });
            }
            rows.push({ sizeMiB: size, firstMs: median(first), againMs: median(again) });
          }
          return rows;
        }, () => null));
      if (r) {
        await ctx.artifact(
          "fork-duration.svg",
          lineChart({
            title: "fork() duration vs guest memory (median)",
            xLabel: "guest memory (MiB)",
            yLabel: "ms",
            series: [
              { name: "first fork (memfd becomes the snapshot)", points: r.map((x) => [x.sizeMiB, x.firstMs]) },
              { name: "fork again (pages changed since copied)", points: r.map((x) => [x.sizeMiB, x.againMs]) },
            ],
          }),
          "image/svg+xml",
        );
        result.fork = r;
      }
    }

    if (p.parts.includes("density")) {
      const r = await ctx.step("density: booted vs cloned", () =>
        effect({
          kind: "kvm",
          target: "/dev/kvm",
          action: `start booted, then cloned, app micro-VMs (${p.memory} MiB, ${p.touched * 100}% touched) ` +
            `until PSS grows by ${p.budget} MiB`,
        }, async () => {
          const out: DensityResult[] = [];
          for (const mode of ["boot", "clone"] as const) {
            const d = await measureDensity(dense, mode, p.budget);
            ctx.metric(`density.${mode}.instances`, d.instances, "count");
            ctx.metric(`density.${mode}.per_gib`, d.instancesPerGiB, "instances/GiB");
            ctx.metric(`density.${mode}.bytes_per_instance`, d.bytesPerInstance, "bytes");
            out.push(d);
          }
          return out;
        }, () => null));
      if (r) {
        const [boot, clone] = r;
        const ratio = clone.instancesPerGiB / boot.instancesPerGiB;
        ctx.metric("density.ratio", ratio, "x");
        ctx.log.info(
          `density: ${boot.instances} booted vs ${clone.instances} cloned in ${p.budget} MiB → ${ratio.toFixed(1)}×`,
        );
        await ctx.artifact(
          "density.svg",
          barChart({
            title: `Instances in ${p.budget} MiB (${p.memory} MiB guests, ${p.touched * 100}% touched)`,
            yLabel: "instances",
            bars: [{ label: "booted", value: boot.instances }, { label: "cloned", value: clone.instances }],
          }),
          "image/svg+xml",
        );
        result.density = { booted: boot, cloned: clone, ratio };
      }
    }
    return result;
  },
});

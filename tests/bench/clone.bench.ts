/**
 * clone: instantiation time of the same guest to its first report, booted from scratch vs cloned from a template
 * stopped at its fork request (Nephele's headline on Xen: clone ≈ 8× faster than boot; aim 20×).
 *
 * The guest is ffi/guests/app.c with Nephele's guest size (memory = "32" MiB). Its boot initialises its whole heap
 * (31 MiB, one word per page) — the role Xen's up-front allocation of all domain memory plays for a booted Nephele
 * guest; a clone shares that memory copy-on-write. Both run the same code to the same first report, with the vCPU
 * loop on a sync KVM_RUN. Instances are sequential and closed after each sample, interleaved boot/clone.
 * For reference, a boot of the same guest that initialises nothing is measured too: it shows the floor (VM creation
 * and entry) that a clone also pays, so a reader sees how much of the speedup comes from skipping boot work.
 *
 * `deno task bench clone [--samples N] [--memory MiB]` (default 100 instances of each).
 */
import { parseArgs } from "node:util";
import { appTemplate, timeBoot, timeClone } from "../../lib/kvm/mod.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const bench: Bench = {
  name: "clone",
  description: "KVM micro-VM instantiation to first report: clone vs boot (target clone ≥ 8× faster)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { samples: { type: "string", default: "100" }, memory: { type: "string", default: "32" } },
    });
    const samples = Math.max(3, Number(values.samples) || 100);
    const memoryMiB = Math.max(2, Number(values.memory) || 32);
    const spec = { memoryMiB, bootInitKiB: (memoryMiB - 1) * 1024, touchKiB: 64 };
    using template = await appTemplate(spec, "bench");
    const bare = { ...spec, bootInitKiB: 0 };
    const boot: number[] = [], clone: number[] = [], bareBoot: number[] = [];
    for (let i = 0; i < samples; i++) {
      const b = await timeBoot(spec);
      b.vm.close();
      boot.push(b.ms);
      const z = await timeBoot(bare);
      z.vm.close();
      bareBoot.push(z.ms);
      const c = await timeClone(template);
      c.vm.close();
      clone.push(c.ms);
    }
    const row = (name: string, xs: number[]) => [name, mean(xs), percentile(xs, 50), percentile(xs, 90)];
    const ratioMedian = percentile(boot, 50) / percentile(clone, 50);
    const ratioMean = mean(boot) / mean(clone);
    printTable(
      `instantiation to first report, ${samples} sequential instances each, guest ${memoryMiB} MiB (ms)`,
      ["how", "mean", "p50", "p90"],
      [
        row("boot", boot),
        row("clone", clone),
        ["boot / clone", ratioMean, ratioMedian, ""],
        row("(reference) boot, no memory init", bareBoot),
        [
          "(reference) that / clone",
          mean(bareBoot) / mean(clone),
          percentile(bareBoot, 50) / percentile(clone, 50),
          "",
        ],
      ],
    );
    console.log("reference (Nephele paper, Xen, ms): boot 234.9, clone 33.6 → 7×; '8×' headline");
    emitResult("clone", {
      samples,
      memory_mib: memoryMiB,
      boot_init_kib: spec.bootInitKiB,
      run_loop: "sync KVM_RUN",
      boot_ms_mean: mean(boot),
      boot_ms_p50: percentile(boot, 50),
      clone_ms_mean: mean(clone),
      clone_ms_p50: percentile(clone, 50),
      speedup_mean: ratioMean,
      speedup_p50: ratioMedian,
      boot_no_init_ms_p50: percentile(bareBoot, 50),
    }, { clone_speedup_p50: { value: ratioMedian, target: 8, op: ">=" } });
  },
};

export default bench;

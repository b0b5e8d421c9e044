/**
 * density: instances per GiB, cloned vs booted, each instance touching 10% of its memory after its fork point
 * (Nephele's headline on Xen: ≈ 3× more VMs; target ≥ 3×).
 *
 * Guest ffi/guests/app.c, 32 MiB (Nephele's guest size); its boot initialises its whole heap (as Xen allocates all of
 * a booted domain's memory). Booted instances each hold their own memory; clones share the template's copy-on-write
 * and own only the pages they write. Memory is measured as the growth of this process's PSS
 * (/proc/self/smaps_rollup) with every instance alive at once, template included; instances are started until the
 * budget is used. KVM's secondary page tables (/proc/meminfo SecPageTables, system-wide) are shown for reference.
 * Also for reference, booted instances whose boot initialises nothing (KVM allocates lazily): the gain of cloning is
 * exactly the memory boot populated, which a reader can see by comparing the two booted rows.
 *
 * `deno task bench density [--budget MiB] [--memory MiB] [--touched fraction]` (defaults 512, 32, 0.1).
 */
import { parseArgs } from "node:util";
import { fractionKiB, measureDensity } from "../../lib/kvm/mod.ts";
import { type Bench, emitResult, printTable } from "./_report.ts";

const MiB = 1024 * 1024;

const bench: Bench = {
  name: "density",
  description: "KVM micro-VM instances per GiB at 10% touched memory: cloned vs booted (target ≥ 3×)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        budget: { type: "string", default: "512" },
        memory: { type: "string", default: "32" },
        touched: { type: "string", default: "0.1" },
      },
    });
    const budgetMiB = Math.max(64, Number(values.budget) || 512);
    const memoryMiB = Math.max(4, Number(values.memory) || 32);
    const touched = Number(values.touched);
    const spec = { memoryMiB, bootInitKiB: (memoryMiB - 1) * 1024, touchKiB: fractionKiB(memoryMiB, touched) };
    const boot = await measureDensity(spec, "boot", budgetMiB);
    const clone = await measureDensity(spec, "clone", budgetMiB);
    const lazy = await measureDensity({ ...spec, bootInitKiB: 0 }, "boot", budgetMiB);
    const ratio = clone.instancesPerGiB / boot.instancesPerGiB;
    const row = (r: typeof boot, name = r.mode === "boot" ? "booted" : "cloned") => [
      name,
      r.instances,
      r.bytes / MiB,
      r.bytesPerInstance / MiB,
      r.instancesPerGiB,
      r.secondaryPageTablesBytes / MiB,
    ];
    printTable(
      `density: ${memoryMiB} MiB guests, ${(touched * 100).toFixed(0)}% touched, budget ${budgetMiB} MiB (PSS growth)`,
      ["instances", "fit in budget", "MiB used", "MiB / instance", "instances / GiB", "SecPageTables MiB"],
      [
        row(boot),
        row(clone),
        ["cloned / booted", clone.instances / boot.instances, "", "", ratio, ""],
        row(lazy, "(reference) booted, no memory init"),
        [
          "(reference) cloned / that",
          clone.instances / lazy.instances,
          "",
          "",
          clone.instancesPerGiB / lazy.instancesPerGiB,
          "",
        ],
      ],
    );
    console.log("reference (Nephele paper, Xen): ~2,882 booted vs ~8,927 cloned before free memory ran out → 3.1×");
    emitResult("density", {
      memory_mib: memoryMiB,
      touched_fraction: touched,
      touch_kib: spec.touchKiB,
      boot_init_kib: spec.bootInitKiB,
      budget_mib: budgetMiB,
      booted_instances: boot.instances,
      cloned_instances: clone.instances,
      booted_mib_per_instance: boot.bytesPerInstance / MiB,
      cloned_mib_per_instance: clone.bytesPerInstance / MiB,
      booted_per_gib: boot.instancesPerGiB,
      cloned_per_gib: clone.instancesPerGiB,
      ratio,
      booted_no_init_per_gib: lazy.instancesPerGiB,
    }, { cloned_vs_booted_per_gib: { value: ratio, target: 3, op: ">=" } });
  },
};

export default bench;

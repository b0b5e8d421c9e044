/**
 * Density: how many app instances fit in a memory budget, booted vs cloned. Memory is measured, not computed: the
 * growth of this process's PSS (each physical page counted once, shared copy-on-write pages included once).
 * @module
 */
import { readFileSync } from "node:fs";
import { InputError } from "../../core/errors.ts";
import { cloneMicroVm } from "./clone.ts";
import { type AppSpec, appTemplate, bootApp } from "./instances.ts";
import { processMemory } from "./memstat.ts";
import type { MicroVm } from "./microvm.ts";

/** Result of one density run. */
export interface DensityResult {
  mode: "boot" | "clone";
  /** Instances started before the budget was used up (all ran to completion and stay alive together). */
  instances: number;
  /** PSS growth with all of them alive, template included for clones (bytes). */
  bytes: number;
  /** bytes / instances. */
  bytesPerInstance: number;
  /** 1 GiB / bytesPerInstance. */
  instancesPerGiB: number;
  /** Growth of the host's KVM secondary page tables (/proc/meminfo SecPageTables; system-wide, informative). */
  secondaryPageTablesBytes: number;
  /** Wall time of the run (ms). */
  ms: number;
}

/** /proc/meminfo SecPageTables in bytes (KVM's EPT/NPT tables; 0 where the kernel does not report it). */
export function secondaryPageTablesBytes(): number {
  const m = readFileSync("/proc/meminfo", "utf8").match(/^SecPageTables:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Starts instances (each runs its app to the end: boot init, fork point, touch, halt) until PSS growth reaches
 * `budgetMiB` or `maxInstances` exist, then closes them all. For "clone", the template's memory counts too.
 */
export async function measureDensity(
  spec: AppSpec,
  mode: "boot" | "clone",
  budgetMiB: number,
  maxInstances = 2000,
): Promise<DensityResult> {
  if (!(budgetMiB > 0)) throw new InputError("budgetMiB", "a positive number of MiB", budgetMiB);
  if (!Number.isInteger(maxInstances) || maxInstances < 1) {
    throw new InputError("maxInstances", "an integer >= 1", maxInstances);
  }
  const budget = budgetMiB * 1024 * 1024;
  const live: MicroVm[] = [];
  const t0 = performance.now();
  const pss0 = processMemory().pss;
  const spt0 = secondaryPageTablesBytes();
  let template: MicroVm | undefined;
  try {
    if (mode === "clone") template = await appTemplate(spec, "density");
    let used = processMemory().pss - pss0;
    while (live.length < maxInstances && used < budget) {
      const vm = template ? cloneMicroVm(template, 1)[0] : bootApp(spec, `density-${live.length}`);
      live.push(vm);
      const r = await vm.run({ sync: true });
      if (r.reason !== "halt") throw new InputError("guest", "the app guest running to its halt", r.reason);
      used = processMemory().pss - pss0;
    }
    const bytes = used;
    const n = used > budget && live.length > 1 ? live.length - 1 : live.length; // the last one did not fit
    const perInstance = bytes / live.length;
    return {
      mode,
      instances: n,
      bytes,
      bytesPerInstance: perInstance,
      instancesPerGiB: (1024 ** 3) / perInstance,
      secondaryPageTablesBytes: secondaryPageTablesBytes() - spt0,
      ms: performance.now() - t0,
    };
  } finally {
    live.forEach((v) => v.close());
    template?.close();
  }
}

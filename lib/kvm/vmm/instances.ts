/**
 * Instances of the `app` guest for Nephele-style measurements: booted from scratch, or cloned from a template
 * stopped at its fork request. Both run the same code to the same first report, so timings compare like for like.
 * @module
 */
import { InputError } from "../../core/errors.ts";
import { cloneMicroVm } from "./clone.ts";
import { MicroVm } from "./microvm.ts";

/** What each instance is. */
export interface AppSpec {
  /** Guest RAM in MiB. */
  memoryMiB: number;
  /** KiB of heap the guest initialises while booting (before its fork point). */
  bootInitKiB: number;
  /** KiB of heap each instance writes after its fork point (its own working set). */
  touchKiB: number;
}

const HEAP_OFFSET_MIB = 1;

/** Checks a spec: the heap (RAM above 1 MiB) must hold what boot initialises and what instances touch. */
export function checkAppSpec(spec: AppSpec, where = "app"): AppSpec {
  const heapKiB = (spec.memoryMiB - HEAP_OFFSET_MIB) * 1024;
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 2) {
    throw new InputError("memoryMiB", "an integer >= 2", spec.memoryMiB, { where });
  }
  for (const f of ["bootInitKiB", "touchKiB"] as const) {
    const v = spec[f];
    if (!Number.isInteger(v) || v < 0 || v > heapKiB) {
      throw new InputError(f, `an integer 0..${heapKiB} (the heap is RAM above 1 MiB)`, v, { where });
    }
  }
  return spec;
}

/** KiB that are `fraction` of a guest's RAM, in whole 4 KiB pages, capped at its heap (RAM above 1 MiB). */
export function fractionKiB(memoryMiB: number, fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new InputError("fraction", "a number 0..1", fraction);
  return Math.min((memoryMiB - HEAP_OFFSET_MIB) * 1024, Math.floor((memoryMiB * 1024 * fraction) / 4) * 4);
}

/** Boots an instance from scratch (its fork request is answered 0: it goes on as a standalone VM). */
export function bootApp(spec: AppSpec, name = "app"): MicroVm {
  return MicroVm.boot({
    guest: "app",
    memoryMiB: spec.memoryMiB,
    params: [spec.bootInitKiB, spec.touchKiB],
    fork: "parent",
    name,
  });
}

/** Boots a template and runs it to its fork request, ready to be cloned. */
export async function appTemplate(spec: AppSpec, name = "app"): Promise<MicroVm> {
  const t = MicroVm.boot({ guest: "app", memoryMiB: spec.memoryMiB, params: [spec.bootInitKiB, spec.touchKiB], name });
  try {
    const r = await t.run({ sync: true });
    if (r.reason !== "fork") throw new InputError("guest", "the app guest stopping at its fork request", r.reason);
    return t;
  } catch (e) {
    t.close();
    throw e;
  }
}

/** Runs an instance to its first report ("ready"); returns it. */
export async function toFirstReport(vm: MicroVm): Promise<MicroVm> {
  const r = await vm.run({ stopOnReport: true, sync: true });
  if (r.reason !== "report") throw new InputError("guest", "a first report", r.reason, { where: vm.name });
  return vm;
}

/** Milliseconds from nothing to a booted instance's first report. */
export async function timeBoot(spec: AppSpec): Promise<{ ms: number; vm: MicroVm }> {
  const t0 = performance.now();
  const vm = await toFirstReport(bootApp(spec));
  return { ms: performance.now() - t0, vm };
}

/** Milliseconds from the template to a cloned instance's first report. */
export async function timeClone(template: MicroVm): Promise<{ ms: number; vm: MicroVm }> {
  const t0 = performance.now();
  const vm = await toFirstReport(cloneMicroVm(template, 1)[0]);
  return { ms: performance.now() - t0, vm };
}

/**
 * Fork duration, as the guest sees it (the parent is paused from its fork request until the child exists): the
 * first fork of a freshly booted template (its memfd becomes the snapshot: no copy, but its mapping is replaced),
 * and a second fork of the same parent after it ran on (only the pages it changed since are copied and layered).
 */
export async function timeFork(spec: AppSpec): Promise<{ firstMs: number; againMs: number }> {
  using parent = await appTemplate(spec, "fork");
  const t0 = performance.now();
  const [first] = cloneMicroVm(parent, 1);
  const firstMs = performance.now() - t0;
  using _first = first;
  await first.run({ sync: true });
  await parent.run({ sync: true });
  const t1 = performance.now();
  const [again] = cloneMicroVm(parent, 1);
  const againMs = performance.now() - t1;
  again.close();
  return { firstMs, againMs };
}

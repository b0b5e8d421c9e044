/**
 * hyperlab's micro-VMM on KVM: small guests built from ffi/guests/, real/protected/long mode entry, COM1 capture, a
 * port-I/O interface for reports and requests, and copy-on-write cloning of running guests.
 *
 * ```ts
 * using parent = MicroVm.boot({ guest: "fork" });
 * await parent.run();                      // stops at the guest's fork request
 * const kids = cloneMicroVm(parent, 3);    // fork returns 1 in each child, which reads index 1..3
 * for (const k of kids) await k.run();
 * await parent.run();                      // fork returns 0 in the parent
 * kids.forEach((k) => k.close());
 * ```
 * @module
 */
export { cloneMicroVm, type CloneSource, cloneSource } from "./clone.ts";
export { GUEST_BUILD_DIR, guestImage, type GuestName, GUESTS } from "./guests.ts";
export * as layout from "./layout.ts";
export { type ProcessMemory, processMemory } from "./memstat.ts";
export {
  type DeviceState,
  type ForkPolicy,
  MicroVm,
  type MicroVmOptions,
  type MicroVmParts,
  type Report,
  type RunOptions,
  type StopReason,
} from "./microvm.ts";
export { type CpuMode, enterMode, writeIdentityPageTables } from "./modes.ts";
export { FORK_REFUSED, PORT } from "./ports.ts";
export {
  type AppSpec,
  appTemplate,
  bootApp,
  checkAppSpec,
  fractionKiB,
  timeBoot,
  timeClone,
  timeFork,
  toFirstReport,
} from "./instances.ts";
export { type DensityResult, measureDensity, secondaryPageTablesBytes } from "./density.ts";

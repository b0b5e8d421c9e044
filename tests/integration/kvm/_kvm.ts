/** Skip reasons shared by the KVM integration tests. */
import { sharedKvm } from "../../../lib/kvm/mod.ts";
import { needCommand, needPath } from "../../_helpers.ts";

/** Why KVM tests cannot run here, or null. */
export const NO_KVM: string | null = needPath("/dev/kvm", "KVM device");
/** Why micro-VM tests (which build guests with gcc/objcopy) cannot run here, or null. */
export const NO_MICROVM: string | null = NO_KVM ?? needCommand("gcc") ?? needCommand("objcopy", "binutils");

/** Open fds of this process (to check tests leave none behind); opens the process-wide KVM handle first. */
export function openFds(): number {
  sharedKvm();
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

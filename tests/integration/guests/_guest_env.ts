/** Skip reasons shared by the guest integration tests. */
import { needCommand, needPath } from "../../_helpers.ts";

/** Why guests cannot boot here, or null when QEMU, busybox, dropbear, ssh and apt are available. */
export function needGuestTools(): string | null {
  return needCommand("qemu-system-x86_64", "qemu-system-x86") ?? needPath("/bin/busybox", "busybox-static") ??
    needPath("/usr/sbin/dropbear", "dropbear (dropbear-bin)") ?? needCommand("ssh", "openssh-client") ??
    needCommand("dropbearkey", "dropbear-bin") ?? needCommand("apt-get", "apt") ?? needCommand("cpio");
}

/** True while process `pid` exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** True when `path` exists. */
export function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

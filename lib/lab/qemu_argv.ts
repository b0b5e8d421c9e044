/**
 * Turns validated guest options into the exact `qemu-system-x86_64` argument list (pure: no I/O), so the argv can be
 * unit-tested, shown by `--dry-run` and recorded with the run.
 * @module
 */
import type { GuestOptions } from "./qemu_options.ts";

/** The QEMU binary guests run with. */
export const QEMU_BINARY = "qemu-system-x86_64";

/** Files and ports decided at start time. */
export interface QemuRuntime {
  /** Kernel to boot (an ELF vmlinux boots through PVH, a bzImage the classic way). */
  kernel: string;
  /** Initramfs (`.cpio.gz`). */
  initrd: string;
  /** Unix socket path of the QMP server. */
  qmpSocket: string;
  /** Serve QMP on 127.0.0.1:port instead of the unix socket (for guests on nodes, driven by a shell client). */
  qmpTcpPort?: number;
  /** Write the serial console to this file instead of stdout. */
  consoleFile?: string;
  /** File listing the trace events (written by the caller when options.trace is set). */
  traceEventsFile?: string;
  /** Host port forwarded to the guest's SSH port. */
  sshPort?: number;
  /** Host port of each `options.network.forwards` entry, same order. */
  forwardPorts: number[];
  /** The accelerator decided for this guest. */
  accel: "kvm" | "tcg";
}

/** Compacts sorted vCPU indexes into QEMU's `cpus=a-b` ranges. */
export function cpuRanges(cpus: number[]): string[] {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(s[i] === s[j] ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out;
}

/** The kernel command line of a guest. */
export function kernelCommandLine(o: GuestOptions): string {
  // no_timer_check: the IO-APIC timer probe is timing-sensitive; on a loaded TCG host it fails, and with interrupt
  // remapping the kernel then panics ("timer doesn't work through Interrupt-remapped IO-APIC").
  const args = ["console=ttyS0", "panic=-1", "quiet", "no_timer_check", `hyperlab.name=${o.name}`];
  if (o.iommu) args.push("intel_iommu=on");
  return [...args, ...o.kernelArgs].join(" ");
}

/** Builds the QEMU argv (without the binary) for `o` with the runtime's files and ports. */
export function buildQemuArgv(o: GuestOptions, rt: QemuRuntime): string[] {
  const a: string[] = ["-name", `guest=${o.name}`, "-nodefaults", "-no-user-config", "-display", "none"];
  a.push("-no-reboot");
  a.push("-accel", rt.accel, "-cpu", rt.accel === "kvm" ? "host" : "max");
  a.push("-M", o.iommu ? "q35,kernel-irqchip=split" : "q35");
  a.push("-smp", `cpus=${o.cpus},maxcpus=${o.maxCpus ?? o.cpus}`);
  a.push(
    "-m",
    o.memoryHotplug
      ? `size=${o.memoryMiB}M,slots=${o.memoryHotplug.slots},maxmem=${o.memoryHotplug.maxMemoryMiB}M`
      : `size=${o.memoryMiB}M`,
  );
  for (const [i, n] of (o.numa ?? []).entries()) {
    a.push("-object", `memory-backend-ram,id=numa-mem${i},size=${n.memoryMiB}M`);
    a.push(
      "-numa",
      [`node`, `nodeid=${i}`, ...cpuRanges(n.cpus).map((r) => `cpus=${r}`), `memdev=numa-mem${i}`].join(","),
    );
  }
  // intel-iommu must come before the devices it translates for.
  const dmaOpts = o.iommu ? `,disable-legacy=on,iommu_platform=on${o.iommu.deviceIotlb ? ",ats=on" : ""}` : "";
  if (o.iommu) {
    a.push(
      "-device",
      `intel-iommu,device-iotlb=${o.iommu.deviceIotlb ? "on" : "off"},intremap=${o.iommu.intremap ? "on" : "off"}`,
    );
  }
  a.push("-kernel", rt.kernel, "-initrd", rt.initrd, "-append", kernelCommandLine(o));
  a.push("-chardev", rt.consoleFile ? `file,id=console0,path=${rt.consoleFile}` : "stdio,id=console0,signal=off");
  a.push("-serial", "chardev:console0");
  a.push(
    "-qmp",
    rt.qmpTcpPort ? `tcp:127.0.0.1:${rt.qmpTcpPort},server=on,wait=off` : `unix:${rt.qmpSocket},server=on,wait=off`,
  );
  if (o.network.enabled) {
    const fwd = [`hostfwd=tcp:127.0.0.1:${rt.sshPort}-:22`];
    o.network.forwards.forEach((f, i) => fwd.push(`hostfwd=tcp:127.0.0.1:${rt.forwardPorts[i]}-:${f.guestPort}`));
    a.push("-netdev", ["user", "id=net0", ...fwd].join(","));
    a.push("-device", `virtio-net-pci,netdev=net0${dmaOpts}`);
  }
  for (const [i, d] of o.drives.entries()) {
    const file = "nbd" in d ? `file=${d.nbd},format=raw` : `file=${d.file},format=${d.format}`;
    a.push("-drive", `${file},if=none,id=drive${i}${d.readOnly ? ",readonly=on" : ""}`);
    a.push("-device", `virtio-blk-pci,drive=drive${i}${dmaOpts}`);
  }
  if (o.trace && rt.traceEventsFile) a.push("-trace", `events=${rt.traceEventsFile},file=${o.trace.file}`);
  return [...a, ...o.extraArgs];
}

/**
 * The QEMU command line of the Xen lab host (pure: no I/O): Xen as the multiboot `-kernel` with its own command
 * line (`smap=0` is required under TCG, else dom0 faults at once), dom0's kernel and initramfs as the two multiboot
 * modules of `-initrd "vmlinux args,initrd"`, NUMA nodes, virtio-net user networking with a loopback SSH forward,
 * and `-virtfs` shares.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { QEMU_BINARY } from "./qemu_argv.ts";
import type { XenHostOptions } from "./xen_host_options.ts";

/** One 9p share: host directory → mount tag (dom0's init mounts known tags). */
export interface VirtfsShare {
  tag: string;
  path: string;
  readOnly: boolean;
}

/** Files and ports decided at start time. */
export interface XenHostRuntime {
  hypervisor: string;
  dom0Kernel: string;
  initrd: string;
  consoleFile: string;
  sshPort: number;
  shares: VirtfsShare[];
  /** Detach QEMU (`-daemonize`) and write its pid here: for a host that outlives the starting process. */
  pidFile?: string;
}

/** Xen's command line. */
export function xenCommandLine(o: XenHostOptions): string {
  return [
    `dom0_mem=${o.dom0MemoryMiB}M,max:${o.dom0MemoryMiB}M`,
    "console=com1",
    "com1=115200,8n1",
    "smap=0",
    "loglvl=warning",
    ...o.xenArgs,
  ].join(" ");
}

/** dom0's kernel command line. */
export function dom0CommandLine(o: XenHostOptions): string {
  const args = ["console=hvc0", "quiet", `hyperlab.name=${o.name}`];
  if (o.xenstored === "oxenstored") args.push("hyperlab.xenstored=oxenstored");
  return [...args, ...o.dom0Args].join(" ");
}

function checkPath(p: string, what: string): string {
  if (/[,\s]/.test(p)) throw new InputError(what, "a path without commas or spaces (QEMU option syntax)", p);
  return p;
}

/** The full argv (binary first). */
export function xenHostArgv(o: XenHostOptions, rt: XenHostRuntime): string[] {
  const a = [QEMU_BINARY, "-name", `guest=${o.name}`, "-nodefaults", "-no-user-config", "-display", "none"];
  a.push(
    "-no-reboot",
    "-accel",
    `tcg,thread=${o.tcgThread}`,
    "-cpu",
    o.cpuModel,
    "-smp",
    String(o.cpus),
    "-m",
    `${o.memoryMiB}M`,
  );
  if (o.numaNodes > 1) {
    for (let n = 0; n < o.numaNodes; n++) {
      const cpus = Array.from({ length: o.cpus }, (_, c) => c).filter((c) => c % o.numaNodes === n);
      a.push("-object", `memory-backend-ram,id=numa-mem${n},size=${o.memoryMiB / o.numaNodes}M`);
      a.push("-numa", ["node", `nodeid=${n}`, ...cpus.map((c) => `cpus=${c}`), `memdev=numa-mem${n}`].join(","));
    }
  }
  a.push("-kernel", checkPath(rt.hypervisor, "hypervisor"), "-append", xenCommandLine(o));
  a.push(
    "-initrd",
    `${checkPath(rt.dom0Kernel, "dom0 kernel")} ${dom0CommandLine(o)},${checkPath(rt.initrd, "initrd")}`,
  );
  a.push("-chardev", `file,id=console0,path=${rt.consoleFile}`, "-serial", "chardev:console0", "-monitor", "none");
  a.push("-netdev", `user,id=net0,hostfwd=tcp:127.0.0.1:${rt.sshPort}-:22`, "-device", "virtio-net-pci,netdev=net0");
  for (const s of rt.shares) {
    a.push(
      "-virtfs",
      `local,path=${checkPath(s.path, `share ${s.tag}`)},mount_tag=${s.tag},security_model=none` +
        (s.readOnly ? ",readonly=on" : ""),
    );
  }
  if (rt.pidFile) a.push("-daemonize", "-pidfile", rt.pidFile);
  return a;
}

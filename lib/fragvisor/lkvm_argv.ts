/**
 * The lkvm (FragVisor kvmtool) command line, derived from the vCPU layout the way `run.sh` writes it:
 * `lkvm run -a 1 -b 1 -x 1 -y 1 -w 4 -i <ramdisk> -k <bzImage> -m <MB> -c 4 -p "<cmdline>" --network <spec>`.
 * Per-node flags come first: lkvm misparses them when they come last on a command line of more than 12 words.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { VcpuLayout } from "./vcpu_layout.ts";

/** lkvm's per-node vCPU flags, index = nid (`--node0` … `--node8`). */
export const NODE_FLAGS: readonly string[] = ["-a", "-b", "-x", "-y", "-z", "-q", "-r", "-s", "-t"];

/** The guest kernel command line of run.sh, without numa=fake (added from the layout). */
export const BASE_CMDLINE: readonly string[] = [
  "root=/dev/ram",
  "rw",
  "init=/init2",
  "fstype=ext4",
  "spectre_v2=off",
  "nopti",
  "pti=off",
  "percpu_alloc=page",
  "-no-kvm-pit-reinjection",
  "clocksource=tsc",
];

/** Everything the lkvm command line is made of. */
export interface LkvmLaunch {
  /** Absolute path of lkvm (the same on every node, usually a shared FS). */
  lkvm: string;
  layout: VcpuLayout;
  memoryMb: number;
  ramdisk: string;
  /** Guest kernel image (`<tree>/arch/x86/boot/bzImage`). */
  kernel: string;
  guestIp: string;
  hostIp: string;
  guestMac: string;
  /** Tap interface; lkvm's default is tap0 (then no `tapif=` is written). */
  tap: string;
  /** Extra guest kernel arguments. */
  extraCmdline?: string;
}

/** The guest kernel command line: run.sh's, `numa=fake=<active nodes>` and the extra arguments. */
export function guestCmdline(layout: VcpuLayout, extra = ""): string {
  const words = extra.trim() === "" ? [] : extra.trim().split(/\s+/);
  for (const w of words) {
    if (/^console=ttyS/.test(w)) {
      throw new InputError("--extra-cmdline", "no console=ttyS* (it crashes Popcorn guests)", w);
    }
    if (/^numa=fake=/.test(w)) {
      throw new InputError("--extra-cmdline", "no numa=fake= (derived from the vCPU layout)", w);
    }
  }
  const base = [...BASE_CMDLINE];
  base.splice(7, 0, `numa=fake=${layout.activeNodes}`);
  return [...base, ...words].join(" ");
}

/** lkvm's `--network` value. */
export function networkSpec(l: Pick<LkvmLaunch, "guestIp" | "hostIp" | "guestMac" | "tap">): string {
  const parts = ["mode=tap", "vhost=1"];
  if (l.tap !== "tap0") parts.push(`tapif=${l.tap}`);
  parts.push(`guest_ip=${l.guestIp}`, `host_ip=${l.hostIp}`, `guest_mac=${l.guestMac}`);
  return parts.join(",");
}

/** The argv of `lkvm run …` (without sudo). Checked with checkLkvmArgvOrder. */
export function lkvmArgv(l: LkvmLaunch): string[] {
  if (l.layout.perNode.length > NODE_FLAGS.length) {
    throw new InputError(
      "inventory",
      `at most ${NODE_FLAGS.length} nodes (lkvm per-node flags)`,
      l.layout.perNode.length,
    );
  }
  if (!Number.isInteger(l.memoryMb) || l.memoryMb < 1) {
    throw new InputError("--memory-mb", "a positive integer", l.memoryMb);
  }
  const perNode = l.layout.perNode.flatMap((n, nid) => [NODE_FLAGS[nid], String(n)]);
  const argv = [
    l.lkvm,
    "run",
    ...perNode,
    "-w",
    String(l.layout.activeNodes),
    "-i",
    l.ramdisk,
    "-k",
    l.kernel,
    "-m",
    String(l.memoryMb),
    "-c",
    String(l.layout.total),
    "-p",
    guestCmdline(l.layout, l.extraCmdline),
    "--network",
    networkSpec(l),
  ];
  checkLkvmArgvOrder(argv);
  return argv;
}

/**
 * Refuses an lkvm argv whose last option is a per-node flag when the command line has more than 12 words (lkvm
 * then ignores it). `argv[0]` is lkvm, `argv[1]` is `run`; every option takes one value.
 */
export function checkLkvmArgvOrder(argv: readonly string[]): void {
  const opts = argv.slice(2);
  if (argv.length <= 12 || opts.length < 2) return;
  const last = opts[opts.length - 2];
  if (NODE_FLAGS.includes(last)) {
    throw new InputError(
      "lkvm argv",
      "per-node flags (-a -b -x -y -z -q -r -s -t) before the other options when argv has more than 12 words",
      argv.join(" "),
    );
  }
}

/**
 * Parameters of the Nephele Xen playbook (seed-systems §2): the parent guest (an xl config with max_clones,
 * skip_cloning, vif, cmdline…), xencloned's options, the clone trigger, the UDP time collector and timeouts.
 * @module
 */
import { z } from "zod";

const ip = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, "an IPv4 address");
const absPath = z.string().regex(/^\/[A-Za-z0-9._/+@-]*$/, "an absolute path");

/** How clones are triggered. */
export const TRIGGERS = ["xl-clone", "tcp-fork", "none"] as const;

/** The playbook's parameters. */
export const NepheleParams = z.object({
  inventory: z.string().min(1).describe("inventory file or `lab`; the first selected node is the dom0"),
  limit: z.string().optional().describe("limit expression (the first selected node is used)"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a domain name (letters, digits, _ . -)")
    .default("unikraft-cloning-app").describe("parent domain name"),
  kernel: z.string().min(1).default("cloning-apps_xen-x86_64").describe("guest kernel (path on the dom0)"),
  memoryMb: z.number().int().min(4).max(65536).default(32).describe("guest memory, MiB"),
  cpus: z.string().regex(/^(all|\d+(-\d+)?(,\d+(-\d+)?)*)$/, "all or a CPU list").default("2-3")
    .describe("pCPUs of the guest"),
  mac: z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "a MAC address").default("aa:bb:cc:06:06:02"),
  guestIp: ip.default("10.8.0.2").describe("guest address"),
  netmask: ip.default("255.255.255.0"),
  gateway: ip.default("10.8.0.1").describe("dom0 side (where guests send time reports)"),
  bridge: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, "an interface name").default("bond0")
    .describe("bridge of the vif (Open vSwitch: cloned vifs on a Linux bridge fail with -ENOTSUP)"),
  noNetwork: z.boolean().default(false).describe("no vif at all"),
  maxClones: z.number().int().min(1).max(100_000).optional()
    .describe("xl max_clones (non-zero enables cloning; default: --clones)"),
  skipCloning: z.array(z.enum(["network", "9pfs"])).default([]).describe("xl skip_cloning: devices not cloned"),
  ramdisk: absPath.optional().describe("guest ramdisk on the dom0 (Linux stand-in guests; unikernels need none)"),
  cmdline: z.string().optional().describe("guest cmdline as is (default: ' -- <app args>')"),
  appArgs: z.string().default("-a measure-fork -m 16MB").describe("application arguments (cmdline after ' -- ')"),
  sendTime: z.boolean().default(false).describe("guests report times by UDP (adds --send-time)"),
  xencloned: absPath.default("/usr/local/sbin/xencloned").describe("xencloned on the dom0"),
  xenclonedLog: absPath.default("/var/log/xen/xencloned.log").describe("where its output goes"),
  cache: z.boolean().default(true).describe("xencloned -c: cache parent info"),
  sharingPool: z.boolean().default(true).describe("xencloned -x: page-sharing-info pool"),
  leavePaused: z.boolean().default(false).describe("xencloned -p: leave clones paused"),
  ringPages: z.number().int().min(1).max(32).default(1).describe("xencloned -r: notification ring pages"),
  noIoCloning: z.boolean().default(false).describe("xencloned -n: no I/O cloning"),
  deepCopy: z.boolean().default(false).describe("xencloned -d: xenstore deep copy instead of XS_CLONE"),
  trigger: z.enum(TRIGGERS).default("xl-clone").describe("xl clone -b N, the guest's TCP fork message, or none"),
  clones: z.number().int().min(1).max(10_000).default(1).describe("children to create (xl clone -b N / fork messages)"),
  forkPort: z.number().int().min(1).max(65535).default(6613).describe("measure-fork's TCP port"),
  forkFrom: z.enum(["dom0", "controller"]).default("dom0").describe("where the TCP fork message is sent from"),
  collector: z.enum(["controller", "off"]).default("off")
    .describe("UDP time collector on port 32764 in this process (the controller must be the guests' gateway)"),
  collectorPort: z.number().int().min(0).max(65535).default(32764),
  expectReports: z.number().int().min(0).default(0).describe("time reports to wait for (0 = do not wait)"),
  readyMarker: z.string().min(1).optional()
    .describe("with --no-network: wait until the parent's console log shows this text"),
  consoleLogDir: absPath.default("/var/log/xen/guest").describe("where xenconsoled writes guest-<name>.log"),
  untilClone: z.boolean().default(false).describe(
    "on a Xen without the clone hypercall: run every step up to the clone for real, then report what is missing",
  ),
  xlConfigDir: absPath.default("/tmp").describe("where the xl config is written on the dom0"),
  readyTimeoutMs: z.number().int().min(100).default(60_000).describe("xencloned ring line and guest ping, ms"),
  cloneTimeoutMs: z.number().int().min(100).default(120_000).describe("children to appear in xl list, ms"),
  keepDomains: z.boolean().default(false).describe("leave the parent and children running at the end"),
  sudo: z.boolean().default(false).describe("prefix dom0 commands with sudo"),
});

/** Parsed parameters. */
export type NepheleParamsT = z.infer<typeof NepheleParams>;

/**
 * Small Xen guests on the Xen lab host: a Debian kernel plus a busybox initramfs whose init reports, on the guest
 * console, the NUMA nodes it sees (/sys/devices/system/node: CPUs and memory per node), its online CPUs and memory,
 * then stays up. `createXenGuest` copies both files into dom0's tmpfs (booting from the 9p share is ~60× slower),
 * writes the xl config with lib/xen's model, runs `xl create`, and reads the console that xenconsoled logs to
 * /var/log/xen/console/guest-<name>.log.
 * @module
 */
import { effect } from "../core/ambient.ts";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { shQuote } from "../remote/mod.ts";
import { validateXlConfig, type XlConfig } from "../xen/mod.ts";
import type { Initramfs } from "./image_initramfs.ts";
import { buildInitramfs } from "./image_initramfs.ts";
import { fetchKernel, type Kernel } from "./kernel_package.ts";
import type { XenHost } from "./xen_host.ts";

/** Printed by the guest's init when it has reported its topology. */
export const XEN_GUEST_READY_MARKER = "hyperlab-xguest: ready";

/** The guest's /init: reports what the guest sees, then idles. */
export const XEN_GUEST_INIT = `#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# kernel messages on the console would land inside the report lines below (one CI run lost "numa nodes=" that way)
echo 1 > /proc/sys/kernel/printk
echo "hyperlab-xguest: userspace uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "hyperlab-xguest: numa nodes=$(ls -d /sys/devices/system/node/node* 2>/dev/null | wc -l)"
for d in /sys/devices/system/node/node*; do
  [ -d "$d" ] || continue
  echo "hyperlab-xguest: $(basename $d) cpus=$(cat $d/cpulist) memkb=$(awk '/MemTotal/{print $4}' $d/meminfo)"
done
echo "hyperlab-xguest: cpus online=$(cat /sys/devices/system/cpu/online) memkb=$(awk '/MemTotal/{print $2}' /proc/meminfo)"
echo "hyperlab-xguest: hypervisor=$(cat /sys/hypervisor/type 2>/dev/null) guest_type=$(cat /sys/hypervisor/guest_type 2>/dev/null)"
echo "${XEN_GUEST_READY_MARKER}"
while true; do sleep 3600; done
`;

/** Kernel and initramfs of the small Xen guest (host paths, in the build cache). */
export interface XenGuestImage {
  kernel: Kernel;
  /** The uncompressed vmlinux (PV guests boot it without in-guest decompression). */
  kernelFile: string;
  initramfs: Initramfs;
}

/** Builds (or reuses) the guest's kernel and initramfs. */
export async function buildXenGuestImage(): Promise<XenGuestImage> {
  const kernel = await fetchKernel();
  const initramfs = await buildInitramfs({ init: XEN_GUEST_INIT });
  return { kernel, kernelFile: kernel.vmlinux ?? kernel.vmlinuz, initramfs };
}

/** What the guest reported on its console. */
export interface XenGuestView {
  /** NUMA nodes in /sys/devices/system/node. */
  numaNodes: number;
  /** Per node: its CPU list and memory in KiB. */
  nodes: { node: number; cpus: string; memKiB: number }[];
  /** /sys/devices/system/cpu/online. */
  cpusOnline: string;
  /** MemTotal in KiB. */
  memKiB: number;
  /** /sys/hypervisor/guest_type (PV, PVH, HVM). */
  guestType: string;
}

/** Parses the guest init's report lines. */
export function parseXenGuestView(consoleText: string): XenGuestView {
  const nodes = [...consoleText.matchAll(/hyperlab-xguest: node(\d+) cpus=(\S*) memkb=(\d+)/g)].map((m) => ({
    node: Number(m[1]),
    cpus: m[2],
    memKiB: Number(m[3]),
  }));
  const n = /hyperlab-xguest: numa nodes=(\d+)/.exec(consoleText);
  const c = /hyperlab-xguest: cpus online=(\S*) memkb=(\d+)/.exec(consoleText);
  const t = /hyperlab-xguest: hypervisor=\S* guest_type=(\S*)/.exec(consoleText);
  return {
    numaNodes: n ? Number(n[1]) : 0,
    nodes,
    cpusOnline: c?.[1] ?? "",
    memKiB: c ? Number(c[2]) : 0,
    guestType: t?.[1] ?? "",
  };
}

/** A guest created with `xl create` on the Xen lab host. */
export interface XenGuest {
  name: string;
  domid: number;
  /** dom0 path of the config file. */
  configPath: string;
  /** dom0 path of the console log written by xenconsoled. */
  consoleLog: string;
  /** Waits for `re` in the guest console log (polling it in dom0). */
  waitForConsole(re: RegExp, timeoutMs?: number): Promise<string>;
  /** `xl destroy`, then waits until xenstore no longer lists the domain. */
  destroy(): Promise<void>;
}

/**
 * Creates `config` on the host: the guest image (unless `config.kernel` is set) is copied into dom0's /tmp, the
 * config written to /tmp/<name>.cfg and `xl create`d. Returns the domain id read from xenstore.
 */
export async function createXenGuest(
  host: XenHost,
  config: Omit<XlConfig, "kernel" | "ramdisk"> & Partial<XlConfig>,
): Promise<XenGuest> {
  let cfg: XlConfig;
  if (!config.kernel) {
    const img = await buildXenGuestImage();
    const kernel = `/tmp/hyperlab-guest-${img.kernel.release}.vmlinux`;
    const ramdisk = `/tmp/hyperlab-guest-${img.initramfs.hash.slice(0, 16)}.cpio.gz`;
    await effect(
      { kind: "ssh", target: host.name, action: `copy guest kernel and initramfs into dom0 tmpfs (${kernel})` },
      () =>
        host.execOk(
          `[ -f ${kernel} ] || cp ${shQuote(host.dom0Path(img.kernelFile))} ${kernel}; ` +
            `[ -f ${ramdisk} ] || cp ${shQuote(host.dom0Path(img.initramfs.path))} ${ramdisk}`,
          { timeoutMs: 180_000 },
        ),
      () => "",
    );
    cfg = validateXlConfig({ cmdline: "console=hvc0 quiet", ...config, kernel, ramdisk });
  } else {
    cfg = validateXlConfig(config);
  }
  const xl = host.xl();
  await xl.create(cfg, { dir: "/tmp" });
  const domid = await effect(
    { kind: "xl", target: host.name, action: `xl domid ${cfg.name}` },
    async () => {
      const out = (await host.execOk(`xl domid ${shQuote(cfg.name)}`)).trim();
      if (!/^\d+$/.test(out)) throw new HyperlabError("xen", `xl domid ${cfg.name} printed ${JSON.stringify(out)}`);
      return Number(out);
    },
    () => 0,
  );
  const consoleLog = `/var/log/xen/console/guest-${cfg.name}.log`;
  const guest: XenGuest = {
    name: cfg.name,
    domid,
    configPath: `/tmp/${cfg.name}.cfg`,
    consoleLog,
    async waitForConsole(re, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      let text = "";
      while (Date.now() < deadline) {
        text = (await host.exec(`cat ${consoleLog} 2>/dev/null`, { timeoutMs: 30_000 })).stdout.replaceAll("\r", "");
        if (re.test(text)) return text;
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new TimeoutError(
        `guest ${cfg.name} on ${host.name}: waiting for ${re} in ${consoleLog}`,
        timeoutMs,
        `console tail:\n${text.split("\n").slice(-15).join("\n")}`,
      );
    },
    async destroy() {
      await xl.destroy(cfg.name);
      await effect(
        { kind: "xenstore", target: host.name, action: `wait until /local/domain/${domid} is gone` },
        async () => {
          for (let i = 0; i < 100; i++) {
            const r = await host.exec(`xenstore-exists /local/domain/${domid}`);
            if (r.code !== 0) return;
            await new Promise((res) => setTimeout(res, 300));
          }
          throw new HyperlabError("xen", `domain ${domid} still in xenstore 30 s after xl destroy`);
        },
        () => undefined,
      );
    },
  };
  return guest;
}

/**
 * The shell commands of the FragVisor procedure, per step, exactly as they run on a node (and as `--dry-run`
 * prints them). Pure: built from the resolved config only.
 * @module
 */
import { shQuote } from "../remote/mod.ts";
import { DEBUG_H, debugHCommands } from "./debug_h.ts";
import { lkvmArgv } from "./lkvm_argv.ts";
import { renderMsgConfig } from "./msg_config.ts";
import type { FragvisorConfig } from "./params.ts";

/** The messaging-layer module as loaded. */
export const MSG_MODULE = "msg_rdma.ko";
/** Where the background insmod writes its output on a node. */
export const INSMOD_LOG = "/tmp/hyperlab-msg_rdma.insmod.log";

type Cfg = Pick<FragvisorConfig, "sudo" | "pathPrefix">;

/** `sudo ` when privileged commands use sudo, else empty. */
export function su(cfg: Pick<FragvisorConfig, "sudo">): string {
  return cfg.sudo ? "sudo " : "";
}

/** Wraps a script with the PATH prefix (test doubles) when one is configured. */
export function withPath(cfg: Cfg, script: string): string {
  return cfg.pathPrefix ? `PATH=${shQuote(cfg.pathPrefix)}:"$PATH"; export PATH; ${script}` : script;
}

function msgDir(cfg: Pick<FragvisorConfig, "trees">, nid: number): string {
  return `${cfg.trees[nid]}/msg_layer`;
}

/**
 * Step 2a, on node `nid` (all nodes in parallel): mount, sync, write config.h (IPs in node order), rebuild the
 * module in that node's kernel tree.
 */
export function msgPrepareCommands(cfg: FragvisorConfig, nid: number): string[] {
  const dir = msgDir(cfg, nid);
  return [
    withPath(cfg, `${su(cfg)}mount -a && sync`),
    withPath(cfg, `printf '%s' ${shQuote(renderMsgConfig(cfg.ips))} > ${shQuote(`${dir}/config.h`)}`),
    withPath(cfg, `make clean -C ${shQuote(dir + "/")} && make -C ${shQuote(dir + "/")}`),
  ];
}

/**
 * Step 2b, on each node in node order: unload (errors ignored), load in the background (insmod blocks while it
 * connects to peers), give it a second.
 */
export function msgLoadCommand(cfg: FragvisorConfig, nid: number): string {
  const ko = `${msgDir(cfg, nid)}/${MSG_MODULE}`;
  return withPath(
    cfg,
    `${su(cfg)}rmmod ${MSG_MODULE} >/dev/null 2>&1; ` +
      `nohup ${su(cfg)}insmod ${shQuote(ko)} >${INSMOD_LOG} 2>&1 </dev/null & sleep 1`,
  );
}

/** Step 2c, on every node: verbose kernel log, mount, sync. */
export function msgSettleCommand(cfg: Cfg): string {
  return withPath(cfg, `${su(cfg)}dmesg -n 7; ${su(cfg)}mount -a; sync`);
}

/** The kernel log lines of the messaging layer (empty output when none yet). */
export function dmesgCommand(cfg: Cfg): string {
  return withPath(cfg, `${su(cfg)}dmesg | grep popcorn || true`);
}

/** Step 3a, on every node: remove stale lkvm sockets. */
export function lkvmCleanCommand(cfg: FragvisorConfig): string {
  return withPath(cfg, `${su(cfg)}sh -c ${shQuote(`rm -f ${cfg.lkvmStateDir}/*`)}`);
}

/** Optional, on the origin: rebuild lkvm (`make clean; make -j16` in its directory). */
export function lkvmBuildCommand(cfg: FragvisorConfig): string {
  const dir = shQuote(dirOf(cfg.lkvm));
  return withPath(cfg, `make clean -C ${dir} && make -j16 -C ${dir}`);
}

/**
 * Optional, on the origin: build the guest kernel from the same tree — POPHYPE_HOST_KERNEL 1→0 and
 * CONFIG_RCU_STALL_COMMON y→n, build, copy vmlinux to vmlinux_guest — restoring both flags even on failure.
 */
export function guestKernelBuildCommand(cfg: FragvisorConfig): string {
  const h = shQuote(DEBUG_H);
  const restore = `sed -i 's/#define POPHYPE_HOST_KERNEL 0/#define POPHYPE_HOST_KERNEL 1/' ${h}; ` +
    `sed -i 's/^CONFIG_RCU_STALL_COMMON=n/CONFIG_RCU_STALL_COMMON=y/' .config`;
  return withPath(
    cfg,
    `cd ${shQuote(cfg.trees[0])} && trap ${shQuote(restore)} EXIT && ` +
      `sed -i 's/#define POPHYPE_HOST_KERNEL 1/#define POPHYPE_HOST_KERNEL 0/' ${h} && ` +
      `sed -i 's/^CONFIG_RCU_STALL_COMMON=y/CONFIG_RCU_STALL_COMMON=n/' .config && ` +
      `make -j"$(nproc)" && cp vmlinux vmlinux_guest`,
  );
}

/**
 * Step 1, on one node: debug.h edit for its role (and PERF_EXP), config options turned off (`scripts/config`),
 * build, install kernel and modules.
 */
export function hostKernelCommand(cfg: FragvisorConfig, nid: number): string {
  const edits = debugHCommands({ origin: nid === 0, perfExp: cfg.perfExp });
  if (cfg.kernelConfigOff.length) {
    edits.push(
      `./scripts/config ${cfg.kernelConfigOff.map((c) => `--disable ${c}`).join(" ")}`,
      "make olddefconfig",
    );
  }
  return withPath(
    cfg,
    `cd ${shQuote(cfg.trees[nid])} && ${edits.join(" && ")} && make -j"$(nproc)" && make modules && ` +
      `${su(cfg)}make modules_install && ${su(cfg)}make install`,
  );
}

/** Reboots a node without holding the SSH session open. */
export function rebootCommand(cfg: Cfg): string {
  return withPath(cfg, `nohup sh -c 'sleep 1; ${su(cfg)}reboot' >/dev/null 2>&1 </dev/null &`);
}

/** The boot id (changes on every boot): how a reboot is confirmed. */
export const BOOT_ID_COMMAND = "cat /proc/sys/kernel/random/boot_id";

/**
 * Step 4, on the origin, polled: prints `bridged` once the tap is in the bridge; adds it when the tap exists but
 * is not in the bridge yet (the seed's `sleep 60 && brctl addif` race, done with iproute2).
 */
export function bridgeCommand(cfg: FragvisorConfig): string {
  const t = shQuote(cfg.tap), b = shQuote(cfg.bridge);
  return withPath(
    cfg,
    `if [ -e /sys/class/net/${b}/brif/${t} ]; then echo bridged; ` +
      `elif [ -e /sys/class/net/${t} ]; then ${su(cfg)}ip link set dev ${t} master ${b} && echo added; ` +
      `else echo no-tap; fi`,
  );
}

/** Step 3b, on the origin: lkvm itself (run from its directory like run.sh), console on stdin/stdout. */
export function lkvmCommand(cfg: FragvisorConfig): string {
  const argv = lkvmArgv({
    lkvm: cfg.lkvm,
    layout: cfg.layout,
    memoryMb: cfg.memoryMb,
    ramdisk: cfg.ramdisk,
    kernel: cfg.guestKernel,
    guestIp: cfg.guestIp,
    hostIp: cfg.hostIp,
    guestMac: cfg.guestMac,
    tap: cfg.tap,
    extraCmdline: cfg.extraCmdline,
  });
  return withPath(cfg, `cd ${shQuote(dirOf(cfg.lkvm))} && exec ${su(cfg)}${argv.map(shQuote).join(" ")}`);
}

/** One CPU-time sample of a host: the `cpu` line of /proc/stat. */
export const CPU_SAMPLE_COMMAND = "head -n 1 /proc/stat";

/** Step 5, per host: Popcorn's counters. */
export const POPCORN_STAT_COMMAND = "cat /proc/popcorn_stat";

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

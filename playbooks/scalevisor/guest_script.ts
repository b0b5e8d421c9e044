/**
 * The shell the playbook runs in the guest (busybox sh over SSH), as pure functions so `--dry-run` shows exactly
 * these commands: the cgroup v2 and swap set-up, and one kmeans run in a cgroup whose memory.max is a ratio of the
 * all-local run's measured memory.peak (computed in the guest with shell integer arithmetic, per mille), with
 * /proc/vmstat swap counters and the guest's uptime clock read around it. `parseRunOutput` reads what a run printed.
 * @module
 */
import { HyperlabError } from "../../lib/core/errors.ts";
import { type KmeansResult, type KmeansSize, parseKmeans } from "./kmeans.ts";

/** Where the kmeans binary is in the guest image. */
export const GUEST_KMEANS = "/usr/bin/kmeans";
/** The cgroup each run gets (recreated per run). */
export const CGROUP = "/sys/fs/cgroup/hyperlab-kmeans";
/** Where the all-local run leaves its memory.peak for the ratio runs. */
export const PEAK_FILE = "/run/hyperlab-kmeans.peak";

/** Swap devices in the guest: the remote-memory NBD disk is the first drive, the local disk image the second. */
export const SWAP_DEVICES = { remote: "/dev/vda", "local-disk": "/dev/vdb" } as const;

/** Where a run's swap goes. */
export type SwapKind = "none" | keyof typeof SWAP_DEVICES;

/**
 * Mounts cgroup2 when the init did not, checks the memory controller, enables it for child cgroups, and writes a
 * swap signature on each swap device. Prints the kernel release and each device's size in 512-byte sectors.
 */
export function setupScript(devices: readonly string[]): string {
  return [
    "set -e",
    "[ -f /sys/fs/cgroup/cgroup.controllers ] || mount -t cgroup2 cgroup2 /sys/fs/cgroup",
    'grep -qw memory /sys/fs/cgroup/cgroup.controllers || { echo "no memory controller in cgroup2: $(cat /sys/fs/cgroup/cgroup.controllers)" >&2; exit 3; }',
    "echo +memory > /sys/fs/cgroup/cgroup.subtree_control",
    "swapoff -a 2>/dev/null || true",
    ...devices.map((d) => `mkswap ${d} >/dev/null`),
    'echo "kernel=$(uname -r)"',
    ...devices.map((d) => `echo "sectors:${d}=$(cat /sys/block/${d.slice(5)}/size)"`),
  ].join("\n");
}

/**
 * Which cgroup file holds the local-memory limit: `memory.max` (a hard limit, as Fastswap's cgroup limit; when the
 * swap device is slower than reclaim needs, the kernel OOM-kills) or `memory.high` (a throttling limit: over it the
 * task is slowed and reclaimed, never OOM-killed).
 */
export type LimitFile = "memory.max" | "memory.high";

/** One kmeans run. `perMille` undefined means no limit (memory.max = max): the all-local baseline. */
export interface RunSpec {
  swap: SwapKind;
  perMille?: number;
  /** Where the limit goes (default memory.max). */
  limitFile?: LimitFile;
  size: KmeansSize;
  seed: number;
  /** Record this run's memory.peak as the working set the ratio runs are limited against. */
  recordPeak?: boolean;
}

/** The script of one run; prints `key=value` lines that {@link parseRunOutput} reads. */
export function runScript(r: RunSpec): string {
  const args = [r.size.points, r.size.dims, r.size.k, r.size.iterations, r.seed].join(" ");
  const max = r.perMille === undefined ? "max" : `$(( $(cat ${PEAK_FILE}) * ${r.perMille} / 1000 / 4096 * 4096 ))`;
  return [
    `cg=${CGROUP}`,
    "swapoff -a 2>/dev/null",
    r.swap === "none" ? "" : `swapon ${SWAP_DEVICES[r.swap]} || exit 4`,
    '[ -d "$cg" ] && rmdir "$cg"',
    'mkdir "$cg" || exit 5',
    r.perMille === undefined ? "" : `[ -s ${PEAK_FILE} ] || { echo "no all-local run recorded" >&2; exit 6; }`,
    `echo ${max} > "$cg/${r.perMille === undefined ? "memory.max" : r.limitFile ?? "memory.max"}" || exit 5`,
    'echo "memory_max=$(cat "$cg/memory.max")"',
    'echo "memory_high=$(cat "$cg/memory.high")"',
    "echo \"vmstat0=$(grep -E '^pswp(in|out) ' /proc/vmstat | tr '\\n' ' ')\"",
    "t0=$(cut -d' ' -f1 /proc/uptime)",
    `sh -c 'echo $$ > ${CGROUP}/cgroup.procs && exec ${GUEST_KMEANS} ${args}' >/run/kmeans.out 2>/run/kmeans.err`,
    "rc=$?",
    "t1=$(cut -d' ' -f1 /proc/uptime)",
    "echo \"vmstat1=$(grep -E '^pswp(in|out) ' /proc/vmstat | tr '\\n' ' ')\"",
    'echo "rc=$rc"',
    'echo "t0=$t0"',
    'echo "t1=$t1"',
    'echo "peak=$(cat "$cg/memory.peak")"',
    "echo \"events=$(grep -E '^(max|oom|oom_kill) ' \"$cg/memory.events\" | tr '\\n' ' ')\"",
    r.recordPeak ? `cat "$cg/memory.peak" > ${PEAK_FILE}` : "",
    "echo \"err=$(tail -n 3 /run/kmeans.err | tr '\\n' ' ')\"",
    'echo "out=$(tail -n 1 /run/kmeans.out)"',
    'rmdir "$cg"',
    "swapoff -a 2>/dev/null",
    "true",
  ].filter(Boolean).join("\n");
}

/** What one run measured in the guest. */
export interface RunMeasurement {
  /** `oom-killed`: the kernel killed kmeans at its memory limit (no result line; the run still counts). */
  outcome: "ok" | "oom-killed";
  /** memory.max the run had (bytes, or null for "max"). */
  memoryMax: number | null;
  /** memory.high the run had (bytes, or null for "max"). */
  memoryHigh: number | null;
  /** Wall-clock of the whole program (start, data generation, iterations), guest uptime clock, seconds. */
  wallSeconds: number;
  /** memory.peak of the run's cgroup, bytes. */
  peakBytes: number;
  /** Pages swapped out / in during the run (/proc/vmstat, whole guest). */
  pswpout: number;
  pswpin: number;
  /** memory.events counters. */
  events: Record<string, number>;
  /** kmeans' own result line (null when OOM-killed). */
  kmeans: KmeansResult | null;
}

function vmstat(text: string, key: string): number {
  const m = new RegExp(`(?:^|\\s)${key} (\\d+)`).exec(text);
  if (!m) throw new HyperlabError("scalevisor", `guest /proc/vmstat has no ${key}: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** Parses a run's output; throws with the guest's stderr and kmeans' stderr when the run failed. */
export function parseRunOutput(stdout: string, stderr = "", code = 0): RunMeasurement {
  const kv = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0 && !kv.has(line.slice(0, i))) kv.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const rc = kv.get("rc");
  if (code !== 0 || rc === undefined) {
    throw new HyperlabError(
      "scalevisor",
      `kmeans run script failed in the guest (exit ${code}): ${(stderr || stdout).trim().slice(-400)}`,
    );
  }
  const events: Record<string, number> = {};
  for (const m of (kv.get("events") ?? "").matchAll(/(\w+) (\d+)/g)) events[m[1]] = Number(m[2]);
  const oomKilled = rc === "137" && (events.oom_kill ?? 0) > 0;
  if (rc !== "0" && !oomKilled) {
    throw new HyperlabError("kmeans", `kmeans exited with ${rc} in the guest: ${kv.get("err") ?? ""}`.trim());
  }
  const limit = (key: string) => {
    const v = kv.get(key) ?? "";
    return v === "max" ? null : Number(v);
  };
  const v0 = kv.get("vmstat0") ?? "", v1 = kv.get("vmstat1") ?? "";
  return {
    outcome: oomKilled ? "oom-killed" : "ok",
    memoryMax: limit("memory_max"),
    memoryHigh: limit("memory_high"),
    wallSeconds: Math.round((Number(kv.get("t1")) - Number(kv.get("t0"))) * 100) / 100,
    peakBytes: Number(kv.get("peak")),
    pswpout: vmstat(v1, "pswpout") - vmstat(v0, "pswpout"),
    pswpin: vmstat(v1, "pswpin") - vmstat(v0, "pswpin"),
    events,
    kmeans: oomKilled ? null : parseKmeans(kv.get("out") ?? ""),
  };
}

/**
 * Host facts of the machine this code runs on: OS, kernel, CPUs and NUMA layout, memory, and whether KVM, Xen and
 * RDMA are present. Runs inside the node agent (no npm imports: the agent ships without an npm cache).
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { kvmFacts } from "../kvm/facts.ts";

/** One NUMA node. */
export interface NumaNode {
  node: number;
  /** CPU list as the kernel prints it, e.g. `0-3,8-11`. */
  cpus: string;
  memoryKiB: number | null;
}

/** What `node.facts()` returns. */
export interface HostFacts {
  hostname: string;
  os: { id: string; name: string; version: string };
  kernel: { release: string; version: string };
  arch: string;
  cpus: { count: number; model: string };
  numa: NumaNode[];
  memory: { totalKiB: number; availableKiB: number };
  kvm: { present: boolean; usable: boolean; apiVersion?: number; maxVcpus?: number; error?: string };
  xen: { present: boolean; role?: "dom0" | "domU"; version?: string };
  rdma: { present: boolean; devices: string[] };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function osRelease(): HostFacts["os"] {
  const kv: Record<string, string> = {};
  for (const line of (read("/etc/os-release") ?? "").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) kv[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return { id: kv.ID ?? "unknown", name: kv.PRETTY_NAME ?? kv.NAME ?? "unknown", version: kv.VERSION_ID ?? "" };
}

function meminfo(): { total: number; available: number } {
  const text = read("/proc/meminfo") ?? "";
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { total: get("MemTotal"), available: get("MemAvailable") };
}

function numa(): NumaNode[] {
  const base = "/sys/devices/system/node";
  let names: string[] = [];
  try {
    names = readdirSync(base).filter((n) => /^node\d+$/.test(n));
  } catch { /* no NUMA sysfs */ }
  return names.map((n) => {
    const id = Number(n.slice(4));
    const mem = /MemTotal:\s+(\d+)/.exec(read(`${base}/${n}/meminfo`) ?? "");
    return { node: id, cpus: (read(`${base}/${n}/cpulist`) ?? "").trim(), memoryKiB: mem ? Number(mem[1]) : null };
  }).sort((a, b) => a.node - b.node);
}

function kvm(): HostFacts["kvm"] {
  if (!existsSync("/dev/kvm")) return { present: false, usable: false };
  try {
    const f = kvmFacts();
    return { present: true, usable: true, apiVersion: f.apiVersion, maxVcpus: f.caps.MAX_VCPUS };
  } catch (e) {
    return { present: true, usable: false, error: (e as Error).message };
  }
}

function xen(): HostFacts["xen"] {
  const type = read("/sys/hypervisor/type")?.trim();
  const present = type === "xen" || existsSync("/proc/xen/capabilities");
  if (!present) return { present: false };
  const caps = read("/proc/xen/capabilities") ?? "";
  const major = read("/sys/hypervisor/version/major")?.trim();
  const minor = read("/sys/hypervisor/version/minor")?.trim();
  return {
    present: true,
    role: caps.includes("control_d") ? "dom0" : "domU",
    version: major !== undefined ? `${major}.${minor ?? "0"}` : undefined,
  };
}

function rdma(): HostFacts["rdma"] {
  let devices: string[] = [];
  try {
    devices = readdirSync("/sys/class/infiniband").sort();
  } catch { /* no RDMA devices */ }
  return { present: devices.length > 0, devices };
}

/** Collects the host facts of this machine. */
export function hostFacts(): HostFacts {
  const cpuinfo = read("/proc/cpuinfo") ?? "";
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const count = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || navigator.hardwareConcurrency;
  const mem = meminfo();
  return {
    hostname: hostname(),
    os: osRelease(),
    kernel: { release: Deno.osRelease(), version: (read("/proc/sys/kernel/version") ?? "").trim() },
    arch: Deno.build.arch,
    cpus: { count, model },
    numa: numa(),
    memory: { totalKiB: mem.total, availableKiB: mem.available },
    kvm: kvm(),
    xen: xen(),
    rdma: rdma(),
  };
}

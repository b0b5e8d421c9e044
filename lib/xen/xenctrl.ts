/**
 * The hypervisor through libxenctrl (ffi/xenctrl.c): version, physinfo, domains, vCPU affinity, max memory,
 * pause/unpause and a raw hypercall entry (e.g. to probe Nephele's clone_op 43). Needs a Xen dom0: elsewhere
 * `openXenctrl` throws one MissingError naming /dev/xen/privcmd. Changing calls go through `effect`.
 * @module
 */
import { existsSync } from "node:fs";
import { effect } from "../core/ambient.ts";
import { InputError, MissingError } from "../core/errors.ts";
import { check } from "../ffi/errno.ts";
import { cString } from "../ffi/loader.ts";
import { cpusToMap, formatCpuList, mapToCpus } from "./cpumap.ts";
import { xenctrlShim } from "./ffi.ts";

/** The device every hypervisor call goes through. */
export const PRIVCMD = "/dev/xen/privcmd";

/** Xen's version. */
export interface XenVersion {
  major: number;
  minor: number;
  extra: string;
  /** e.g. `4.17.7` (major.minor + extraversion). */
  text: string;
}

/** Host facts from XEN_SYSCTL_physinfo. */
export interface XenPhysinfo {
  nrCpus: number;
  threadsPerCore: number;
  coresPerSocket: number;
  nrNodes: number;
  maxCpuId: number;
  maxNodeId: number;
  cpuKhz: number;
  totalMemoryKiB: number;
  freeMemoryKiB: number;
  scrubMemoryKiB: number;
  capabilities: number;
}

/** One domain as the hypervisor sees it. */
export interface XenDomainInfo {
  domid: number;
  flags: { dying: boolean; hvm: boolean; shutdown: boolean; paused: boolean; blocked: boolean; running: boolean };
  memoryKiB: number;
  maxMemoryKiB: number;
  cpuTimeNs: bigint;
  onlineVcpus: number;
  maxVcpuId: number;
  cpupool: number;
}

function domid(v: unknown, field = "domid"): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0x7fef) {
    throw new InputError(field, "a domain id 0..32751", v);
  }
  return v as number;
}

/** Opens libxenctrl. Throws MissingError naming /dev/xen/privcmd where there is no Xen. */
export async function openXenctrl(): Promise<XenCtrl> {
  if (!existsSync(PRIVCMD)) {
    throw new MissingError(
      `Xen hypervisor interface ${PRIVCMD} is absent: this machine is not a Xen dom0`,
      "run on a Xen host (or the Xen lab host), with the xen-privcmd module loaded and xenfs mounted",
    );
  }
  const sym = xenctrlShim();
  check(`xc_interface_open (${PRIVCMD})`, await sym.hl_xc_open());
  return new XenCtrl();
}

/** An open libxenctrl interface (one per process, shared). */
export class XenCtrl {
  readonly #sym = xenctrlShim();

  /** Xen's version. */
  async version(): Promise<XenVersion> {
    const out = new BigUint64Array(1);
    const extra = new Uint8Array(32);
    check("xc_version", await this.#sym.hl_xc_version(new Uint8Array(out.buffer), extra));
    const v = Number(out[0]);
    const major = v >> 16, minor = v & 0xffff, ex = cString(extra);
    return { major, minor, extra: ex, text: `${major}.${minor}${ex}` };
  }

  /** CPUs, NUMA nodes, total and free memory. */
  async physinfo(): Promise<XenPhysinfo> {
    const o = new BigUint64Array(12);
    check("xc_physinfo", await this.#sym.hl_xc_physinfo(new Uint8Array(o.buffer)));
    const n = (i: number) => Number(o[i]);
    const kib = (pages: number) => pages * n(11) / 1024;
    return {
      nrCpus: n(0),
      threadsPerCore: n(1),
      coresPerSocket: n(2),
      nrNodes: n(3),
      maxCpuId: n(4),
      maxNodeId: n(5),
      cpuKhz: n(6),
      totalMemoryKiB: kib(n(7)),
      freeMemoryKiB: kib(n(8)),
      scrubMemoryKiB: kib(n(9)),
      capabilities: n(10),
    };
  }

  /** Domains from `first` on (at most `max`). */
  async domains(first = 0, max = 1024): Promise<XenDomainInfo[]> {
    const o = new BigUint64Array(8 * max);
    const count = check(
      "xc_domain_getinfolist",
      await this.#sym.hl_xc_domain_list(first, max, new Uint8Array(o.buffer)),
    );
    return Array.from({ length: count }, (_, i) => {
      const s = (k: number) => o[i * 8 + k];
      const flags = Number(s(1));
      return {
        domid: Number(s(0)),
        flags: {
          dying: !!(flags & 1),
          hvm: !!(flags & 2),
          shutdown: !!(flags & 4),
          paused: !!(flags & 8),
          blocked: !!(flags & 16),
          running: !!(flags & 32),
        },
        memoryKiB: Number(s(2)) * 4,
        maxMemoryKiB: Number(s(3)) * 4,
        cpuTimeNs: s(4),
        onlineVcpus: Number(s(5)),
        maxVcpuId: Number(s(6)),
        cpupool: Number(s(7)),
      };
    });
  }

  /** Hard and soft affinity of one vCPU. */
  async vcpuAffinity(dom: number, vcpu: number): Promise<{ hard: number[]; soft: number[] }> {
    const size = check("xc_get_cpumap_size", await this.#sym.hl_xc_cpumap_size());
    const hard = new Uint8Array(size), soft = new Uint8Array(size);
    check(`xc_vcpu_getaffinity d${dom}v${vcpu}`, await this.#sym.hl_xc_vcpu_get_affinity(domid(dom), vcpu, hard, soft));
    return { hard: mapToCpus(hard), soft: mapToCpus(soft) };
  }

  /** Pins a vCPU (hard affinity) to `cpus`; returns the effective affinity. */
  async setVcpuAffinity(dom: number, vcpu: number, cpus: number[]): Promise<number[]> {
    domid(dom);
    if (!Number.isInteger(vcpu) || vcpu < 0) throw new InputError("vcpu", "a vCPU number >= 0", vcpu);
    if (cpus.length === 0) throw new InputError("cpus", "at least one CPU", cpus);
    return await effect(
      { kind: "hypercall", target: PRIVCMD, action: `xc_vcpu_setaffinity d${dom}v${vcpu} hard=${formatCpuList(cpus)}` },
      async () => {
        const size = check("xc_get_cpumap_size", await this.#sym.hl_xc_cpumap_size());
        const map = cpusToMap(cpus, size);
        check(`xc_vcpu_setaffinity d${dom}v${vcpu}`, await this.#sym.hl_xc_vcpu_set_affinity(dom, vcpu, map));
        return mapToCpus(map);
      },
      () => cpus,
    );
  }

  /** Sets a domain's maximum memory in KiB. */
  async setMaxMemory(dom: number, kib: number): Promise<void> {
    domid(dom);
    if (!Number.isInteger(kib) || kib <= 0) throw new InputError("kib", "a positive number of KiB", kib);
    await effect(
      { kind: "hypercall", target: PRIVCMD, action: `xc_domain_setmaxmem d${dom} ${kib} KiB` },
      async () => void check(`xc_domain_setmaxmem d${dom}`, await this.#sym.hl_xc_set_max_mem(dom, BigInt(kib))),
      () => undefined,
    );
  }

  /** Pauses a domain. */
  async pause(dom: number): Promise<void> {
    domid(dom);
    await effect(
      { kind: "hypercall", target: PRIVCMD, action: `xc_domain_pause d${dom}` },
      async () => void check(`xc_domain_pause d${dom}`, await this.#sym.hl_xc_pause(dom)),
      () => undefined,
    );
  }

  /** Unpauses a domain. */
  async unpause(dom: number): Promise<void> {
    domid(dom);
    await effect(
      { kind: "hypercall", target: PRIVCMD, action: `xc_domain_unpause d${dom}` },
      async () => void check(`xc_domain_unpause d${dom}`, await this.#sym.hl_xc_unpause(dom)),
      () => undefined,
    );
  }

  /**
   * A raw hypercall through IOCTL_PRIVCMD_HYPERCALL, for operations libxenctrl lacks (e.g. Nephele's
   * `__HYPERVISOR_clone_op` = 43: ENOSYS on stock Xen). Arguments are raw u64 values (pointers must be
   * hypercall-safe buffers; keep to scalar operations). Returns the hypercall's result.
   */
  async hypercall(op: number, args: (number | bigint)[] = []): Promise<bigint> {
    if (!Number.isInteger(op) || op < 0 || op > 63) throw new InputError("op", "a hypercall number 0..63", op);
    if (args.length > 5) throw new InputError("args", "at most 5 arguments", args.length);
    const a = new BigUint64Array(5);
    args.forEach((v, i) => a[i] = BigInt.asUintN(64, BigInt(v)));
    return await effect(
      { kind: "hypercall", target: PRIVCMD, action: `hypercall ${op}(${args.join(", ")})` },
      async () => {
        const ret = new BigInt64Array(1);
        check(
          `hypercall ${op}`,
          await this.#sym.hl_xc_hypercall(BigInt(op), new Uint8Array(a.buffer), new Uint8Array(ret.buffer)),
        );
        return ret[0];
      },
      () => 0n,
    );
  }
}

/** KVM host facts: API version and the capabilities experiments care about, queried through the KVM shim. */
import { existsSync } from "node:fs";
import { MissingError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { toCString } from "../ffi/loader.ts";
import { kvmShim } from "./ffi.ts";

/** KVM_CAP_* numbers (linux/kvm.h) reported in host facts. */
export const KVM_CAPS = {
  IRQCHIP: 0,
  HLT: 1,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  NR_VCPUS: 9,
  NR_MEMSLOTS: 10,
  MP_STATE: 14,
  COALESCED_MMIO: 15,
  SYNC_MMU: 16,
  IRQFD: 32,
  IOEVENTFD: 36,
  ADJUST_CLOCK: 39,
  XSAVE: 55,
  TSC_CONTROL: 60,
  MAX_VCPUS: 66,
  READONLY_MEM: 81,
  IMMEDIATE_EXIT: 136,
  NESTED_STATE: 157,
  MANUAL_DIRTY_LOG_PROTECT2: 168,
  DIRTY_LOG_RING: 192,
} as const;

/** What the KVM facts query returns. */
export interface KvmFacts {
  device: string;
  apiVersion: number;
  vcpuMmapSize: number;
  /** KVM_CHECK_EXTENSION result per capability (0 = absent). */
  caps: Record<keyof typeof KVM_CAPS, number>;
}

/** Queries KVM on this machine. Throws MissingError naming the device when it is absent. */
export function kvmFacts(device = "/dev/kvm"): KvmFacts {
  if (!existsSync(device)) {
    throw new MissingError(
      `KVM is not available: ${device} does not exist`,
      "load kvm_intel or kvm_amd, or run on a host with KVM",
    );
  }
  const k = kvmShim();
  let fd: number;
  try {
    fd = check("open " + device, k.hl_kvm_open(toCString(device)));
  } catch (e) {
    if (e instanceof ErrnoError) {
      throw new MissingError(`KVM is not usable: ${e.message}`, "check permissions on " + device);
    }
    throw e;
  }
  try {
    const apiVersion = check("KVM_GET_API_VERSION", k.hl_kvm_api_version(fd));
    const vcpuMmapSize = check("KVM_GET_VCPU_MMAP_SIZE", k.hl_kvm_vcpu_mmap_size(fd));
    const caps = {} as Record<keyof typeof KVM_CAPS, number>;
    for (const [name, num] of Object.entries(KVM_CAPS)) {
      caps[name as keyof typeof KVM_CAPS] = Math.max(0, k.hl_kvm_check_extension(fd, num));
    }
    return { device, apiVersion, vcpuMmapSize, caps };
  } finally {
    k.hl_close(fd);
  }
}

/** The KVM system fd (/dev/kvm): API version, extensions, vCPU mmap size, supported CPUID, VM creation. */
import { existsSync } from "node:fs";
import { MissingError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { toCString } from "../ffi/loader.ts";
import { OwnedFd } from "./fd.ts";
import { kvmShim } from "./ffi.ts";
import { Vm } from "./vm.ts";

/** Supported CPUID as raw kvm_cpuid_entry2 records (40 bytes each). */
export interface CpuidEntries {
  /** Number of entries. */
  count: number;
  /** count × 40 bytes. */
  bytes: Uint8Array<ArrayBuffer>;
}

/** One decoded CPUID entry. */
export interface CpuidEntry {
  function: number;
  index: number;
  flags: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** Decodes raw CPUID entries. */
export function decodeCpuid(c: CpuidEntries): CpuidEntry[] {
  const v = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.count * 40);
  return Array.from({ length: c.count }, (_, i) => {
    const o = i * 40;
    const [fn, index, flags, eax, ebx, ecx, edx] = [0, 4, 8, 12, 16, 20, 24].map((d) => v.getUint32(o + d, true));
    return { function: fn, index, flags, eax, ebx, ecx, edx };
  });
}

let cpuidCache: CpuidEntries | undefined;
let shared: Kvm | undefined;

/**
 * The process-wide KVM system handle the micro-VMM creates its VMs from (opened on first use, never closed, like
 * the shim's library handle). Opening it also raises the soft open-file limit to the hard one.
 */
export function sharedKvm(): Kvm {
  if (shared && !shared.closed) return shared;
  shared = Kvm.open();
  kvmShim().hl_raise_nofile();
  return shared;
}

/** The KVM system device. `using kvm = Kvm.open()`; closing it closes its VMs first. */
export class Kvm extends OwnedFd {
  #mmapSize?: number;

  /** Opens the device; throws MissingError naming it when absent or not usable. */
  static open(device = "/dev/kvm"): Kvm {
    if (!existsSync(device)) {
      throw new MissingError(`KVM is not available: ${device} does not exist`, "load kvm_intel or kvm_amd");
    }
    const r = kvmShim().hl_kvm_open(toCString(device));
    if (r < 0) throw new MissingError(`KVM is not usable: ${new ErrnoError("open " + device, -r).message}`);
    return new Kvm(r);
  }

  /** Wraps an fd the caller owns from now on (rust-vmm's `from_raw_fd`; tests pass bad fds to see EBADF). */
  static fromRawFd(fd: number): Kvm {
    return new Kvm(fd);
  }

  /** KVM_GET_API_VERSION (12 on every Linux since 2.6.22). */
  apiVersion(): number {
    return check("KVM_GET_API_VERSION", kvmShim().hl_kvm_api_version(this.fd));
  }

  /** KVM_CHECK_EXTENSION: 0 when absent, else a capability-specific positive value. */
  checkExtension(cap: number): number {
    return check("KVM_CHECK_EXTENSION", kvmShim().hl_kvm_check_extension(this.fd, cap));
  }

  /** KVM_GET_VCPU_MMAP_SIZE: bytes of a vCPU's kvm_run mapping. */
  vcpuMmapSize(): number {
    return this.#mmapSize ??= check("KVM_GET_VCPU_MMAP_SIZE", kvmShim().hl_kvm_vcpu_mmap_size(this.fd));
  }

  /** KVM_GET_SUPPORTED_CPUID (cached per process: it describes the host). */
  supportedCpuid(): CpuidEntries {
    if (cpuidCache) return cpuidCache;
    const max = 256;
    const bytes = new Uint8Array(max * 40);
    const count = check("KVM_GET_SUPPORTED_CPUID", kvmShim().hl_kvm_supported_cpuid(this.fd, bytes, max));
    return cpuidCache = { count, bytes: bytes.slice(0, count * 40) };
  }

  /** KVM_CREATE_VM. The VM closes when this Kvm closes, if not before. */
  createVm(): Vm {
    const fd = check("KVM_CREATE_VM", kvmShim().hl_kvm_create_vm(this.fd));
    const vm: Vm = new Vm(fd, this, () => this.release(vm));
    return this.adopt(vm);
  }
}

/** VM exits decoded from the shim's 16-word exit record (ffi/kvm.c decode_exit) into a discriminated union. */

/** KVM_EXIT_* numbers this module decodes. */
export const EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
} as const;

/** Port I/O: the guest ran IN or OUT. For `in`, answer with Vcpu.completeRead before the next run. */
export interface IoExit {
  kind: "io";
  direction: "in" | "out";
  port: number;
  /** Access size in bytes (1, 2 or 4). */
  size: number;
  /** Number of elements (string I/O); 1 for plain IN/OUT. */
  count: number;
  /** For `out`: the first element written (0 for `in`). */
  data: number;
}

/** MMIO: the guest touched unbacked guest-physical memory. For reads, answer with Vcpu.completeRead. */
export interface MmioExit {
  kind: "mmio";
  isWrite: boolean;
  address: bigint;
  len: number;
  /** For writes: the value written (first 8 bytes, little endian). */
  data: bigint;
}

/** Every exit KVM_RUN can report, by kind. */
export type VcpuExit =
  | IoExit
  | MmioExit
  | { kind: "hlt" }
  | { kind: "shutdown" }
  | { kind: "fail-entry"; hardwareReason: bigint; cpu: number }
  | { kind: "internal-error"; suberror: number; data: bigint[] }
  | { kind: "system-event"; type: number }
  | { kind: "interrupted" }
  | { kind: "unknown"; reason: number };

/** Words of the exit record the shim fills. */
export const EXIT_WORDS = 16;

const u64 = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/** Decodes the shim's exit record `w` (reason in w[0]). */
export function decodeExit(w: Uint32Array): VcpuExit {
  switch (w[0]) {
    case EXIT.IO:
      return { kind: "io", direction: w[1] ? "out" : "in", size: w[2], port: w[3], count: w[6], data: w[4] };
    case EXIT.MMIO:
      return { kind: "mmio", isWrite: w[1] !== 0, len: w[2], data: u64(w[4], w[5]), address: u64(w[6], w[7]) };
    case EXIT.HLT:
      return { kind: "hlt" };
    case EXIT.SHUTDOWN:
      return { kind: "shutdown" };
    case EXIT.FAIL_ENTRY:
      return { kind: "fail-entry", hardwareReason: u64(w[4], w[5]), cpu: w[6] };
    case EXIT.INTERNAL_ERROR:
      return {
        kind: "internal-error",
        suberror: w[1],
        data: [u64(w[4], w[5]), u64(w[6], w[7])].slice(0, Math.min(2, w[2])),
      };
    case EXIT.SYSTEM_EVENT:
      return { kind: "system-event", type: w[1] };
    case EXIT.INTR:
      return { kind: "interrupted" };
    default:
      return { kind: "unknown", reason: w[0] };
  }
}

/** One-line description of an exit for logs and errors. */
export function describeExit(e: VcpuExit): string {
  switch (e.kind) {
    case "io":
      return `io ${e.direction} port 0x${e.port.toString(16)} size ${e.size} data 0x${e.data.toString(16)}`;
    case "mmio":
      return `mmio ${e.isWrite ? "write" : "read"} 0x${e.address.toString(16)} len ${e.len}`;
    case "fail-entry":
      return `fail-entry hardware reason 0x${e.hardwareReason.toString(16)} cpu ${e.cpu}`;
    case "internal-error":
      return `internal-error suberror ${e.suberror} data ${e.data.map((d) => "0x" + d.toString(16)).join(",")}`;
    case "system-event":
      return `system-event type ${e.type}`;
    case "unknown":
      return `unknown exit ${e.reason}`;
    default:
      return e.kind;
  }
}

/**
 * Types of the QMP messages and command results hyperlab uses, and the typed QMP error.
 * @module
 */
import { HyperlabError } from "../core/errors.ts";

/** A QMP command failed: QEMU answered `{"error": {"class", "desc"}}`. */
export class QmpError extends HyperlabError {
  /** QMP error class, e.g. `GenericError`, `CommandNotFound`, `DeviceNotFound`. */
  readonly errorClass: string;
  /** QEMU's description. */
  readonly desc: string;
  /** The command that failed. */
  readonly command: string;
  constructor(command: string, errorClass: string, desc: string) {
    super("qmp", `QMP ${command} failed: ${errorClass}: ${desc}`);
    this.errorClass = errorClass;
    this.desc = desc;
    this.command = command;
  }
}

/** The QMP connection ended (QEMU exited or the socket closed) before an answer arrived. */
export class QmpClosedError extends HyperlabError {
  constructor(what: string) {
    super("qmp-closed", `QMP connection closed: ${what}`);
  }
}

/** An asynchronous QMP event. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** `query-status`. */
export interface QmpStatus {
  running: boolean;
  singlestep?: boolean;
  /** e.g. `running`, `paused`, `prelaunch`, `shutdown`, `internal-error`. */
  status: string;
}

/** CPU placement properties (socket/core/thread/node ids), as QEMU reports and expects them. */
export interface CpuInstanceProperties {
  "node-id"?: number;
  "socket-id"?: number;
  "die-id"?: number;
  "core-id"?: number;
  "thread-id"?: number;
}

/** One entry of `query-cpus-fast`. */
export interface QmpCpuInfoFast {
  "cpu-index": number;
  "qom-path": string;
  "thread-id": number;
  props?: CpuInstanceProperties;
  target: string;
}

/** One entry of `query-hotpluggable-cpus`: a slot, plugged when `qom-path` is set. */
export interface QmpHotpluggableCpu {
  type: string;
  "vcpus-count": number;
  props: CpuInstanceProperties;
  "qom-path"?: string;
}

/** One entry of `query-memory-devices`. */
export interface QmpMemoryDevice {
  type: string;
  data: {
    id?: string;
    addr?: number;
    size?: number;
    slot?: number;
    node?: number;
    memdev?: string;
    hotplugged?: boolean;
    hotpluggable?: boolean;
    [k: string]: unknown;
  };
}

/** `query-version`. */
export interface QmpVersion {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

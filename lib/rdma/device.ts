/**
 * RDMA devices: list them, open one, query it and its ports. When the machine has no RDMA (no NIC, no driver,
 * `ibv_get_device_list` failing with ENOSYS) every entry point raises one MissingError saying so.
 * @module
 */
import { InputError, MissingError } from "../core/errors.ts";
import { check, errnoMessage, errnoName } from "../ffi/errno.ts";
import { cString, toCString } from "../ffi/loader.ts";
import { CompletionQueue } from "./cq.ts";
import { verbsShim } from "./ffi.ts";
import { ProtectionDomain } from "./pd.ts";
import { VerbsResource } from "./resource.ts";
import {
  decodeDeviceAttr,
  decodePortAttr,
  DEVICE_ATTR_SIZE,
  type DeviceAttr,
  PORT_ATTR_SIZE,
  type PortAttr,
} from "./structs.ts";

const NO_RDMA_HINT = "needs an InfiniBand or RoCE NIC with its rdma-core provider, or Soft-RoCE " +
  "(modprobe rdma_rxe; rdma link add rxe0 type rxe netdev <interface>)";

/** Names of the RDMA devices of this machine. Throws MissingError when verbs are unavailable or none exist. */
export function listDevices(): string[] {
  const buf = new Uint8Array(4096);
  const n = verbsShim().hl_verbs_device_list(buf, buf.length);
  if (n < 0) {
    throw new MissingError(
      `no RDMA here: ibv_get_device_list failed with ${errnoName(-n)} (${errnoMessage(-n)})`,
      NO_RDMA_HINT,
    );
  }
  if (n === 0) throw new MissingError("no RDMA device found (ibv_get_device_list returned none)", NO_RDMA_HINT);
  const names: string[] = [];
  let at = 0;
  while (at < buf.length && buf[at] !== 0 && names.length < n) {
    const name = cString(buf.subarray(at));
    names.push(name);
    at += new TextEncoder().encode(name).length + 1;
  }
  return names;
}

/** Reason to skip a test or step that needs an RDMA device, or null when one exists. */
export function rdmaUnavailable(): string | null {
  try {
    listDevices();
    return null;
  } catch (e) {
    return e instanceof MissingError ? e.message : `verbs shim unusable: ${(e as Error).message}`;
  }
}

/** Opens device `name` (default: the first one). */
export function openDevice(name?: string): RdmaDevice {
  const names = listDevices();
  const chosen = name ?? names[0];
  if (!names.includes(chosen)) throw new InputError("device", `one of ${names.join(", ")}`, chosen);
  const out = new BigUint64Array(1);
  check(`ibv_open_device(${chosen})`, verbsShim().hl_verbs_open(toCString(chosen), new Uint8Array(out.buffer)));
  return new RdmaDevice(chosen, out[0]);
}

/** An open RDMA device (ibv_context). Closing it closes every PD, CQ, MR and QP made from it first. */
export class RdmaDevice extends VerbsResource {
  readonly kind: string;
  /** Device name, e.g. `mlx5_0`. */
  readonly name: string;

  /** Use `openDevice`. */
  constructor(name: string, handle: bigint) {
    super(handle, []);
    this.name = name;
    this.kind = `device ${name}`;
  }

  /** Device attributes. */
  query(): DeviceAttr {
    const b = new Uint8Array(DEVICE_ATTR_SIZE);
    check("ibv_query_device", verbsShim().hl_verbs_query_device(this.handle, b));
    return decodeDeviceAttr(b);
  }

  /** Attributes of port `port` (ports count from 1). */
  queryPort(port = 1): PortAttr {
    if (!Number.isInteger(port) || port < 1 || port > 255) throw new InputError("port", "an integer 1..255", port);
    const b = new Uint8Array(PORT_ATTR_SIZE);
    check(`ibv_query_port(${port})`, verbsShim().hl_verbs_query_port(this.handle, port, b));
    return decodePortAttr(b);
  }

  /** GID `index` of port `port` (16 bytes; RoCE addresses peers by GID). */
  queryGid(port = 1, index = 0): Uint8Array {
    if (!Number.isInteger(index) || index < 0) throw new InputError("index", "a GID table index >= 0", index);
    const gid = new Uint8Array(16);
    check(`ibv_query_gid(${port}, ${index})`, verbsShim().hl_verbs_query_gid(this.handle, port, index, gid));
    return gid;
  }

  /** Allocates a protection domain. */
  allocPd(): ProtectionDomain {
    const out = new BigUint64Array(1);
    check("ibv_alloc_pd", verbsShim().hl_verbs_alloc_pd(this.handle, new Uint8Array(out.buffer)));
    return new ProtectionDomain(this, out[0]);
  }

  /** Creates a completion queue of at least `entries` entries. */
  createCq(entries = 256): CompletionQueue {
    if (!Number.isInteger(entries) || entries < 1) throw new InputError("entries", "an integer >= 1", entries);
    const out = new BigUint64Array(1);
    check("ibv_create_cq", verbsShim().hl_verbs_create_cq(this.handle, entries, new Uint8Array(out.buffer)));
    return new CompletionQueue(this, out[0]);
  }

  protected release(handle: bigint): void {
    check("ibv_close_device", verbsShim().hl_verbs_close_device(handle));
  }
}

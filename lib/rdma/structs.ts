/** Decoders of the fixed-layout structs ffi/verbs.c fills (offsets pinned there with _Static_assert). */

/** Device attributes (a subset of ibv_device_attr). */
export interface DeviceAttr {
  nodeGuid: bigint;
  sysImageGuid: bigint;
  maxMrSize: bigint;
  vendorId: number;
  vendorPartId: number;
  hwVer: number;
  maxQp: number;
  maxQpWr: number;
  maxSge: number;
  maxCq: number;
  maxCqe: number;
  maxMr: number;
  maxPd: number;
  maxQpRdAtom: number;
  maxQpInitRdAtom: number;
  physPortCnt: number;
  fwVer: string;
}

/** Size of `struct hl_device_attr`. */
export const DEVICE_ATTR_SIZE = 144;
/** Size of `struct hl_port_attr`. */
export const PORT_ATTR_SIZE = 48;
/** Size of `struct hl_wc`. */
export const WC_SIZE = 32;

/** Decodes `struct hl_device_attr`. */
export function decodeDeviceAttr(b: Uint8Array): DeviceAttr {
  const v = new DataView(b.buffer, b.byteOffset, DEVICE_ATTR_SIZE);
  const i32 = (o: number) => v.getInt32(o, true);
  const fw = b.subarray(76, 140);
  const end = fw.indexOf(0);
  return {
    nodeGuid: v.getBigUint64(0, true),
    sysImageGuid: v.getBigUint64(8, true),
    maxMrSize: v.getBigUint64(16, true),
    vendorId: v.getUint32(24, true),
    vendorPartId: v.getUint32(28, true),
    hwVer: v.getUint32(32, true),
    maxQp: i32(36),
    maxQpWr: i32(40),
    maxSge: i32(44),
    maxCq: i32(48),
    maxCqe: i32(52),
    maxMr: i32(56),
    maxPd: i32(60),
    maxQpRdAtom: i32(64),
    maxQpInitRdAtom: i32(68),
    physPortCnt: v.getUint32(72, true),
    fwVer: new TextDecoder().decode(end < 0 ? fw : fw.subarray(0, end)),
  };
}

/** Port attributes (ibv_port_attr fields, widened). */
export interface PortAttr {
  state: number;
  maxMtu: number;
  activeMtu: number;
  gidTblLen: number;
  portCapFlags: number;
  maxMsgSz: number;
  lid: number;
  smLid: number;
  /** 1 InfiniBand, 2 Ethernet (RoCE). */
  linkLayer: number;
  activeWidth: number;
  activeSpeed: number;
  physState: number;
}

/** Decodes `struct hl_port_attr`. */
export function decodePortAttr(b: Uint8Array): PortAttr {
  const v = new DataView(b.buffer, b.byteOffset, PORT_ATTR_SIZE);
  const u = (i: number) => v.getUint32(i * 4, true);
  return {
    state: u(0),
    maxMtu: u(1),
    activeMtu: u(2),
    gidTblLen: u(3),
    portCapFlags: u(4),
    maxMsgSz: u(5),
    lid: u(6),
    smLid: u(7),
    linkLayer: u(8),
    activeWidth: u(9),
    activeSpeed: u(10),
    physState: u(11),
  };
}

/** One work completion. */
export interface WorkCompletion {
  wrId: bigint;
  /** 0 = IBV_WC_SUCCESS. */
  status: number;
  opcode: number;
  byteLen: number;
  qpNum: number;
  vendorErr: number;
  wcFlags: number;
}

/** Decodes `n` consecutive `struct hl_wc`. */
export function decodeWcs(b: Uint8Array, n: number): WorkCompletion[] {
  const out: WorkCompletion[] = [];
  for (let i = 0; i < n; i++) {
    const v = new DataView(b.buffer, b.byteOffset + i * WC_SIZE, WC_SIZE);
    out.push({
      wrId: v.getBigUint64(0, true),
      status: v.getUint32(8, true),
      opcode: v.getUint32(12, true),
      byteLen: v.getUint32(16, true),
      qpNum: v.getUint32(20, true),
      vendorErr: v.getUint32(24, true),
      wcFlags: v.getUint32(28, true),
    });
  }
  return out;
}

/**
 * Reliable-connected queue pairs: the INIT → RTR → RTS transitions, and posting SEND, RECV, RDMA READ and RDMA
 * WRITE work requests. The peer's QP number, LID, PSN and GID travel out of band (rmem exchanges them over TCP).
 * @module
 */
import { InputError } from "../core/errors.ts";
import { check } from "../ffi/errno.ts";
import { type Access, accessMask } from "./access.ts";
import type { CompletionQueue } from "./cq.ts";
import { verbsShim } from "./ffi.ts";
import { VerbsResource } from "./resource.ts";

/** Sizes of a queue pair. */
export interface QueuePairOptions {
  maxSendWr?: number;
  maxRecvWr?: number;
  maxSge?: number;
  maxInline?: number;
}

/** What a peer needs to connect to a queue pair. */
export interface QpEndpoint {
  qpn: number;
  lid: number;
  psn: number;
  /** 16-byte GID; required on RoCE (Ethernet link layer). */
  gid?: Uint8Array;
}

/** Path settings of the RTR transition. */
export interface RtrOptions {
  port?: number;
  /** Path MTU in bytes: 256, 512, 1024, 2048 or 4096. */
  mtu?: number;
  /** Local GID index used when `remote.gid` is given. */
  sgidIndex?: number;
}

const MTU: Record<number, number> = { 256: 1, 512: 2, 1024: 3, 2048: 4, 4096: 5 };
const OPCODE = { send: 0, "rdma-write": 1, "rdma-read": 2 } as const;

function u32(field: string, v: number, max = 0xffffffff): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new InputError(field, `an integer 0..${max}`, v);
  return v;
}

/** A reliable-connected queue pair (ibv_qp of type IBV_QPT_RC). */
export class QueuePair extends VerbsResource {
  readonly kind: string;
  /** QP number the peer connects to. */
  readonly qpn: number;

  private constructor(parents: VerbsResource[], handle: bigint, qpn: number) {
    super(handle, parents);
    this.qpn = qpn;
    this.kind = `QP ${qpn}`;
  }

  /** Use `ProtectionDomain.createRcQp`. */
  static create(
    pd: VerbsResource,
    pdHandle: bigint,
    sendCq: CompletionQueue,
    recvCq: CompletionQueue,
    o: QueuePairOptions,
  ): QueuePair {
    const out = new BigUint64Array(1);
    const qpn = new Uint32Array(1);
    check(
      "ibv_create_qp",
      verbsShim().hl_verbs_create_rc_qp(
        pdHandle,
        sendCq.native,
        recvCq.native,
        u32("maxSendWr", o.maxSendWr ?? 128, 1 << 20),
        u32("maxRecvWr", o.maxRecvWr ?? 128, 1 << 20),
        u32("maxSge", o.maxSge ?? 1, 64),
        u32("maxInline", o.maxInline ?? 0, 4096),
        new Uint8Array(out.buffer),
        new Uint8Array(qpn.buffer),
      ),
    );
    const parents = sendCq === recvCq ? [pd, sendCq] : [pd, sendCq, recvCq];
    return new QueuePair(parents, out[0], qpn[0]);
  }

  /** RESET → INIT on `port` with the access rights remote peers get. */
  toInit(port = 1, access: Access[] = ["local-write", "remote-read", "remote-write"]): void {
    check("ibv_modify_qp(INIT)", verbsShim().hl_verbs_qp_init(this.handle, u32("port", port, 255), accessMask(access)));
  }

  /** INIT → RTR towards `remote`. */
  toRtr(remote: QpEndpoint, o: RtrOptions = {}): void {
    const mtu = MTU[o.mtu ?? 1024];
    if (!mtu) throw new InputError("mtu", "256, 512, 1024, 2048 or 4096", o.mtu);
    if (remote.gid !== undefined && remote.gid.length !== 16) {
      throw new InputError("remote.gid", "16 bytes", remote.gid);
    }
    check(
      "ibv_modify_qp(RTR)",
      verbsShim().hl_verbs_qp_rtr(
        this.handle,
        u32("port", o.port ?? 1, 255),
        u32("remote.qpn", remote.qpn, 0xffffff),
        u32("remote.psn", remote.psn, 0xffffff),
        u32("remote.lid", remote.lid, 0xffff),
        remote.gid ?? new Uint8Array(16),
        u32("sgidIndex", o.sgidIndex ?? 0, 255),
        mtu,
        remote.gid ? 1 : 0,
      ),
    );
  }

  /** RTR → RTS with our send PSN. */
  toRts(psn: number): void {
    check("ibv_modify_qp(RTS)", verbsShim().hl_verbs_qp_rts(this.handle, u32("psn", psn, 0xffffff)));
  }

  /** Posts a SEND of `[addr, addr + len)` (lkey). */
  postSend(wrId: bigint, local: { addr: bigint; len: number; lkey: number }, signaled = true): void {
    this.#post("send", wrId, local, 0n, 0, signaled);
  }

  /** Posts an RDMA WRITE of local bytes to `remoteAddr` under `rkey`. */
  postRdmaWrite(
    wrId: bigint,
    local: { addr: bigint; len: number; lkey: number },
    remoteAddr: bigint,
    rkey: number,
    signaled = true,
  ): void {
    this.#post("rdma-write", wrId, local, remoteAddr, rkey, signaled);
  }

  /** Posts an RDMA READ of remote bytes at `remoteAddr` under `rkey` into local bytes. */
  postRdmaRead(
    wrId: bigint,
    local: { addr: bigint; len: number; lkey: number },
    remoteAddr: bigint,
    rkey: number,
  ): void {
    this.#post("rdma-read", wrId, local, remoteAddr, rkey, true);
  }

  /** Posts a receive buffer. */
  postRecv(wrId: bigint, local: { addr: bigint; len: number; lkey: number }): void {
    check(
      "ibv_post_recv",
      verbsShim().hl_verbs_post_recv(this.handle, wrId, local.addr, u32("len", local.len), local.lkey),
    );
  }

  #post(
    op: keyof typeof OPCODE,
    wrId: bigint,
    local: { addr: bigint; len: number; lkey: number },
    remoteAddr: bigint,
    rkey: number,
    signaled: boolean,
  ): void {
    check(
      `ibv_post_send(${op})`,
      verbsShim().hl_verbs_post_send(
        this.handle,
        OPCODE[op],
        wrId,
        local.addr,
        u32("len", local.len),
        local.lkey,
        remoteAddr,
        rkey,
        signaled ? 1 : 0,
      ),
    );
  }

  protected release(handle: bigint): void {
    check("ibv_destroy_qp", verbsShim().hl_verbs_destroy_qp(handle));
  }
}

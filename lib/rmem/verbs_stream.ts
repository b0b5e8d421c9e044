/**
 * An ordered byte stream over an RDMA reliable-connected queue pair (SEND/RECV through registered rings), so that
 * the rmem channel and server run unchanged over verbs. Writes are cut into messages of at most {@link MSG} bytes;
 * RC delivers them in order. Flow control relies on RNR retry (rnr_retry 7 = retry forever) when the peer has no
 * receive posted. End of stream is signalled out of band: the TCP control connection closing calls `end()`.
 * Native objects are destroyed only once no completion-queue wait is running on a worker thread.
 * @module
 */
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import type { ByteStream } from "../netio/mod.ts";
import {
  type CompletionQueue,
  type MemoryRegion,
  openDevice,
  type ProtectionDomain,
  type QueuePair,
  type RdmaDevice,
} from "../rdma/mod.ts";
import type { QpInfo } from "./wire.ts";

/** Largest message one SEND carries. */
export const MSG = 64 * 1024;
const RECV_SLOTS = 32;
const SEND_SLOTS = 16;
const WAIT_MS = 200;

let shared: RdmaDevice | null = null;

/** The process's RDMA device, opened once (MissingError when there is none). */
function device(): RdmaDevice {
  if (!shared || shared.closed) shared = openDevice();
  return shared;
}

/** A byte stream over one RC queue pair. */
export class VerbsStream implements ByteStream {
  readonly local: QpInfo;
  #port: number;
  #pd: ProtectionDomain;
  #sendCq: CompletionQueue;
  #recvCq: CompletionQueue;
  #qp: QueuePair;
  #recvMr: MemoryRegion;
  #sendMr: MemoryRegion;
  #freeSend: number[] = [];
  #received: Uint8Array[] = [];
  #ended = false;
  #destroyed = false;
  #waits = 0;

  /** Creates the queue pair (INIT, receives posted); exchange `local` with the peer, then call `connect`. */
  constructor(port = 1) {
    const dev = device();
    this.#port = port;
    const attr = dev.queryPort(port);
    this.#pd = dev.allocPd();
    const made: { close(): void }[] = [this.#pd];
    try {
      made.push(this.#sendCq = dev.createCq(SEND_SLOTS * 2));
      made.push(this.#recvCq = dev.createCq(RECV_SLOTS * 2));
      this.#qp = this.#pd.createRcQp(this.#sendCq, this.#recvCq, { maxSendWr: SEND_SLOTS, maxRecvWr: RECV_SLOTS });
      this.#recvMr = this.#pd.registerMemory(new Uint8Array(MSG * RECV_SLOTS), ["local-write"]);
      this.#sendMr = this.#pd.registerMemory(new Uint8Array(MSG * SEND_SLOTS), ["local-write"]);
      this.#qp.toInit(port, ["local-write"]);
      for (let i = 0; i < RECV_SLOTS; i++) this.#qp.postRecv(BigInt(i), this.#recvMr.slice(i * MSG, MSG));
    } catch (e) {
      for (const m of made.reverse()) m.close(); // the PD closes the QP and MRs first
      throw e;
    }
    for (let i = 0; i < SEND_SLOTS; i++) this.#freeSend.push(i);
    const psn = crypto.getRandomValues(new Uint32Array(1))[0] & 0xffffff;
    this.local = {
      qpn: this.#qp.qpn,
      psn,
      lid: attr.lid,
      gid: attr.linkLayer === 2 ? dev.queryGid(port, 0) : undefined,
    };
  }

  /** Connects to the peer's queue pair (RTR, then RTS). */
  connect(remote: QpInfo, mtu = 1024): void {
    this.#qp.toRtr({ qpn: remote.qpn, lid: remote.lid, psn: remote.psn, gid: remote.gid }, {
      port: this.#port,
      mtu,
    });
    this.#qp.toRts(this.local.psn);
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (true) {
      const head = this.#received[0];
      if (head) {
        const n = Math.min(head.length, p.length);
        p.set(head.subarray(0, n));
        if (n === head.length) this.#received.shift();
        else this.#received[0] = head.subarray(n);
        return n;
      }
      if (this.#ended) return null;
      for (const wc of await this.#wait(this.#recvCq, RECV_SLOTS)) {
        if (wc.status !== 0) {
          this.end();
          throw new HyperlabError("verbs-wc", `RDMA receive failed: completion status ${wc.status}`);
        }
        const slot = Number(wc.wrId);
        if (wc.byteLen > 0) this.#received.push(this.#recvMr.bytes.slice(slot * MSG, slot * MSG + wc.byteLen));
        if (!this.#ended) this.#qp.postRecv(wc.wrId, this.#recvMr.slice(slot * MSG, MSG));
      }
    }
  }

  async write(p: Uint8Array): Promise<number> {
    while (this.#freeSend.length === 0) {
      if (this.#ended) throw new HyperlabError("verbs-closed", "RDMA stream is closed");
      this.#reap(await this.#wait(this.#sendCq, SEND_SLOTS));
    }
    if (this.#ended) throw new HyperlabError("verbs-closed", "RDMA stream is closed");
    const slot = this.#freeSend.pop()!;
    const n = Math.min(p.length, MSG);
    this.#sendMr.bytes.set(p.subarray(0, n), slot * MSG);
    this.#qp.postSend(BigInt(slot), this.#sendMr.slice(slot * MSG, n), true);
    this.#reap(this.#sendCq.poll(SEND_SLOTS));
    return n;
  }

  /** Marks the stream ended (the control connection closed): reads return null, writes fail. */
  end(): void {
    this.#ended = true;
    this.#destroyIfIdle();
  }

  close(): void {
    this.end();
  }

  #reap(wcs: { wrId: bigint; status: number }[]): void {
    for (const wc of wcs) {
      if (wc.status !== 0) {
        this.end();
        throw new HyperlabError("verbs-wc", `RDMA send failed: completion status ${wc.status}`);
      }
      this.#freeSend.push(Number(wc.wrId));
    }
  }

  /** Waits on a worker thread in short slices, so that `end()` is noticed; [] once ended. */
  async #wait(cq: CompletionQueue, max: number) {
    while (!this.#ended) {
      this.#waits++;
      try {
        return await cq.wait(max, WAIT_MS);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      } finally {
        this.#waits--;
        this.#destroyIfIdle();
      }
    }
    return [];
  }

  #destroyIfIdle(): void {
    if (!this.#ended || this.#destroyed || this.#waits > 0) return;
    this.#destroyed = true;
    this.#qp.close();
    this.#sendCq.close();
    this.#recvCq.close();
    this.#pd.close();
  }
}

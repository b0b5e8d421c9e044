/**
 * A channel to a memory server over any ordered byte stream (a TCP connection, or an RDMA queue-pair stream):
 * binary frames with request ids, any number of requests in flight (pipelining), and optional merging of adjacent
 * queued requests into one wire request whose reply is split back to the callers.
 * @module
 */
import { BatchWriter, ByteQueue, type ByteStream } from "../netio/mod.ts";
import { RemoteMemoryLostError, RmemRemoteError } from "./errors.ts";
import type { ChannelOptions, ChannelStats, RmemChannel } from "./transport.ts";
import {
  decodeGrant,
  type Grant,
  GRANT_BYTES,
  MAX_IO,
  Op,
  putRequest,
  REP_HEADER,
  REP_MAGIC,
  REQ_HEADER,
  Status,
} from "./wire.ts";

interface Part {
  len: number;
  /** Turns a view of the reply bytes (valid only during the call) into the result. */
  take: (view: Uint8Array) => unknown;
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
}

interface Queued extends Part {
  op: number;
  rkey: number;
  addr: bigint;
  data?: Uint8Array;
}

const decoder = new TextDecoder();
const copyOf = (view: Uint8Array) => view.slice();
const ignore = () => {};

/** Completes `p` with the reply bytes `view`. */
function settle(p: Part, view: Uint8Array): void {
  let result: unknown;
  try {
    result = p.take(view);
  } catch (e) {
    p.reject(e as Error);
    return;
  }
  try {
    p.resolve(result);
  } catch (e) {
    // a completion callback's own bug: surface it as uncaught, without breaking this connection's reply parsing
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** One connection to a memory server. */
export class StreamChannel implements RmemChannel {
  readonly endpoint: string;
  #grant: Grant | null = null;
  #conn: ByteStream;
  #out: BatchWriter;
  #merge: boolean;
  #maxMerge: number;
  #queue: Queued[] = [];
  #scheduled = false;
  #inflight = new Map<number, Part | Part[]>();
  #nextId = 1;
  #alive = true;
  #closedResolve!: (e: Error) => void;
  readonly closed: Promise<Error>;
  #stats: ChannelStats = { requests: 0, wireRequests: 0 };
  #frameView: DataView = new DataView(new ArrayBuffer(0));

  private constructor(endpoint: string, conn: ByteStream, merge: boolean, maxMerge: number) {
    this.endpoint = endpoint;
    this.#conn = conn;
    this.#merge = merge;
    this.#maxMerge = Math.min(maxMerge, MAX_IO);
    this.closed = new Promise((r) => this.#closedResolve = r);
    this.#out = new BatchWriter(conn, (e) => this.#fail(`write failed: ${e.message}`));
    this.#readLoop();
  }

  /** Sends HELLO over `conn` (already connected to `endpoint`) and waits for the grant. */
  static async open(endpoint: string, conn: ByteStream, options: ChannelOptions): Promise<StreamChannel> {
    const ch = new StreamChannel(endpoint, conn, options.merge, options.maxMergeBytes);
    try {
      const payload = await ch.#request(Op.HELLO, 0, BigInt(options.requestBytes), 0, undefined, copyOf);
      if (payload.length !== GRANT_BYTES) throw new RmemRemoteError(endpoint, Status.PROTOCOL, "short grant");
      ch.#grant = decodeGrant(payload);
    } catch (e) {
      await ch.close();
      throw e;
    }
    return ch;
  }

  get grant(): Grant {
    if (!this.#grant) throw new Error("channel has no grant yet");
    return this.#grant;
  }

  get alive(): boolean {
    return this.#alive;
  }

  read(rkey: number, addr: bigint, len: number): Promise<Uint8Array> {
    return this.#request(Op.READ, rkey, addr, len, undefined, copyOf);
  }

  readInto(rkey: number, addr: bigint, len: number, sink: (view: Uint8Array) => void): Promise<void> {
    return this.#request(Op.READ, rkey, addr, len, undefined, sink);
  }

  write(rkey: number, addr: bigint, data: Uint8Array): Promise<void> {
    return this.#request(Op.WRITE, rkey, addr, data.length, data, ignore);
  }

  stats(): ChannelStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    if (!this.#alive) return;
    await this.#out.drained();
    this.#fail("closed by the client");
  }

  /**
   * Queues one request; `take` turns the reply's bytes (a view valid only during the call) into the result.
   * `data` is copied before this returns.
   */
  #request<T>(
    op: number,
    rkey: number,
    addr: bigint,
    len: number,
    data: Uint8Array | undefined,
    take: (view: Uint8Array) => T,
  ): Promise<T> {
    if (!this.#alive) return Promise.reject(new RemoteMemoryLostError(this.endpoint, "connection is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#enqueue({ op, rkey, addr, len, data, take, resolve: resolve as (r: unknown) => void, reject });
    });
  }

  readWith(rkey: number, addr: bigint, len: number, sink: (view: Uint8Array) => void, fail: (e: Error) => void): void {
    if (!this.#alive) return this.#failLater(fail);
    this.#enqueue({ op: Op.READ, rkey, addr, len, data: undefined, take: sink, resolve: ignore, reject: fail });
  }

  writeWith(rkey: number, addr: bigint, data: Uint8Array, done: () => void, fail: (e: Error) => void): void {
    if (!this.#alive) return this.#failLater(fail);
    this.#enqueue({ op: Op.WRITE, rkey, addr, len: data.length, data, take: ignore, resolve: done, reject: fail });
  }

  #failLater(fail: (e: Error) => void): void {
    const e = new RemoteMemoryLostError(this.endpoint, "connection is closed");
    queueMicrotask(() => fail(e));
  }

  /** Sends (or, merging, queues) one request; its `data` is copied before this returns. */
  #enqueue(part: Queued): void {
    this.#stats.requests++;
    if (!this.#merge) {
      // nothing to merge with: straight into the batch writer (it still coalesces syscalls)
      this.#send(part, part.op, part.rkey, part.addr, part.len);
      return;
    }
    if (part.data) part.data = part.data.slice();
    this.#queue.push(part);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Puts the queued requests on the wire, merging adjacent ones when enabled. */
  #flush(): void {
    this.#scheduled = false;
    const q = this.#queue;
    this.#queue = [];
    if (!this.#alive) {
      for (const r of q) r.reject(new RemoteMemoryLostError(this.endpoint, "connection is closed"));
      return;
    }
    let i = 0;
    while (i < q.length) {
      const first = q[i];
      let j = i + 1;
      let total = first.len;
      if (this.#merge && (first.op === Op.READ || first.op === Op.WRITE)) {
        while (j < q.length) {
          const n = q[j];
          const prev = q[j - 1];
          if (n.op !== first.op || n.rkey !== first.rkey || n.addr !== prev.addr + BigInt(prev.len)) break;
          if (total + n.len > this.#maxMerge) break;
          total += n.len;
          j++;
        }
      }
      this.#send(j === i + 1 ? first : q.slice(i, j), first.op, first.rkey, first.addr, total);
      i = j;
    }
  }

  /** Puts one wire request carrying `parts` (one, or several merged adjacent ones) into the batch writer. */
  #send(parts: Queued | Queued[], op: number, rkey: number, addr: bigint, total: number): void {
    const id = this.#nextId;
    this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
    this.#inflight.set(id, parts);
    this.#stats.wireRequests++;
    const payload = op === Op.WRITE ? total : 0;
    const frame = this.#out.reserve(REQ_HEADER + payload);
    // the batch writer swaps between two buffers: a DataView per buffer swap, not per request
    if (this.#frameView.buffer !== frame.buffer) this.#frameView = new DataView(frame.buffer);
    putRequest(this.#frameView, frame.byteOffset, op, id, rkey, addr, total);
    if (payload > 0 && !Array.isArray(parts)) frame.set(parts.data!, REQ_HEADER);
    else if (payload > 0) {
      let at = REQ_HEADER;
      for (const p of parts as Queued[]) {
        frame.set(p.data!, at);
        at += p.len;
      }
    }
  }

  async #readLoop(): Promise<void> {
    const q = new ByteQueue();
    let view: DataView = new DataView(new ArrayBuffer(0));
    let reason = "connection closed by the server";
    try {
      while (this.#alive) {
        const n = await this.#conn.read(q.spare());
        if (n === null) break;
        q.commit(n);
        // every complete reply in the buffer, then one consume
        const buf = q.view();
        if (view.buffer !== buf.buffer) view = new DataView(buf.buffer);
        let pos = 0;
        while (buf.length - pos >= REP_HEADER) {
          const at = buf.byteOffset + pos;
          const magic = view.getUint32(at, true), status = view.getUint16(at + 4, true);
          const id = view.getUint32(at + 8, true), len = view.getUint32(at + 12, true);
          if (magic !== REP_MAGIC) throw new Error(`bad reply magic 0x${magic.toString(16)}`);
          if (len > MAX_IO + REP_HEADER) throw new Error(`reply of ${len} bytes is too large`);
          if (buf.length - pos < REP_HEADER + len) break;
          const parts = this.#inflight.get(id);
          if (!parts) throw new Error(`reply to unknown request id ${id}`);
          this.#inflight.delete(id);
          const body = buf.subarray(pos + REP_HEADER, pos + REP_HEADER + len);
          pos += REP_HEADER + len;
          if (status !== Status.OK) {
            const err = new RmemRemoteError(this.endpoint, status, decoder.decode(body));
            if (Array.isArray(parts)) { for (const p of parts) p.reject(err); }
            else parts.reject(err);
          } else if (!Array.isArray(parts)) {
            settle(parts, body);
          } else {
            let off = 0;
            for (const p of parts) {
              settle(p, body.subarray(off, off + (len === 0 ? 0 : p.len)));
              off += p.len;
            }
          }
        }
        q.consume(pos);
      }
    } catch (e) {
      if (this.#alive) reason = `connection failed: ${(e as Error).message}`;
    }
    this.#fail(reason);
  }

  #fail(reason: string): void {
    if (!this.#alive) return;
    this.#alive = false;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    const pending = [...this.#inflight.values()].flat().concat(this.#queue);
    this.#inflight.clear();
    this.#queue = [];
    const err = new RemoteMemoryLostError(
      this.endpoint,
      pending.length ? `${reason} with ${pending.length} request(s) in flight` : reason,
    );
    for (const p of pending) p.reject(err);
    this.#closedResolve(err);
  }
}

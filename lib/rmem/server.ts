/**
 * The TCP memory server: exports a pool, grants one slice per HELLO, and serves READ and WRITE requests against
 * granted slices with rkey and bounds checks. Malformed requests get an error reply; a request whose framing cannot
 * be trusted (bad magic, oversized payload) gets an error reply and the connection is closed.
 * @module
 */
import { MissingError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { BatchWriter, ByteQueue, type ByteStream, TcpService } from "../netio/mod.ts";
import { rdmaUnavailable } from "../rdma/mod.ts";
import { type AccessDenied, MemoryPool } from "./pool.ts";
import { type ServerOptions, ServerOptionsSchema } from "./schema.ts";
import { VerbsStream } from "./verbs_stream.ts";
import {
  decodeQpInfo,
  encodeGrant,
  encodeQpInfo,
  encodeReply,
  MAX_IO,
  Op,
  putReply,
  QP_INFO_BYTES,
  readRequest,
  REP_HEADER,
  REQ_HEADER,
  REQ_MAGIC,
  type RequestHeader,
  Status,
} from "./wire.ts";

/** Counters of a running server. */
export interface ServerStats {
  connections: number;
  requests: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
  grants: number;
  freePages: number;
  totalPages: number;
}

const encoder = new TextEncoder();
/** Reply bytes queued for one connection beyond which the server stops reading its requests. */
const MAX_BACKLOG = 16 << 20;

/** A running memory server. `await using` closes it. */
export class RmemServer implements AsyncDisposable {
  /** Address it listens on. */
  readonly host: string;
  /** Port it listens on. */
  readonly port: number;
  /** The exported pool. */
  readonly pool: MemoryPool;
  #service: TcpService;
  #verbs: boolean;
  #stats = { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };
  // scratch of the request parser (connections are served one request at a time on this thread)
  #h: RequestHeader = { magic: 0, op: 0, flags: 0, reserved: 0, id: 0, rkey: 0, addr: 0n, len: 0 };
  #inView: DataView = new DataView(new ArrayBuffer(0));
  #outView: DataView = new DataView(new ArrayBuffer(0));

  private constructor(listener: Deno.TcpListener, pool: MemoryPool, verbs: boolean) {
    this.#verbs = verbs;
    this.pool = pool;
    this.#service = new TcpService(listener, (conn) => this.#serve(conn));
    this.host = this.#service.addr.hostname;
    this.port = this.#service.addr.port;
  }

  /** Validates `options`, allocates the pool and starts listening. */
  static start(options: ServerOptions): RmemServer {
    const o = parseOrThrow(ServerOptionsSchema, options, "rmem server");
    const missing = o.verbs ? rdmaUnavailable() : null;
    if (missing) throw new MissingError(`rmem server --verbs: ${missing}`, "start it without --verbs (TCP only)");
    const pool = new MemoryPool(o.poolBytes, o.pageSize);
    const listener = Deno.listen({ hostname: o.host, port: o.port, transport: "tcp" });
    return new RmemServer(listener, pool, o.verbs);
  }

  /** `host:port` clients connect to. */
  get endpoint(): string {
    return this.host.includes(":") ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Current counters. */
  stats(): ServerStats {
    const p = this.pool.stats();
    return {
      connections: this.#service.connections,
      ...this.#stats,
      grants: this.pool.grants,
      freePages: p.free,
      totalPages: p.total,
    };
  }

  /** Stops listening, drops every connection (clients see their memory lost) and waits for the handlers. */
  close(): Promise<void> {
    return this.#service.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(conn: ByteStream): Promise<void> {
    const linked: VerbsStream[] = [];
    const q = new ByteQueue();
    const out = new BatchWriter(conn, () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    });
    const grants: number[] = [];
    try {
      while (true) {
        const n = await conn.read(q.spare());
        if (n === null) break;
        q.commit(n);
        let state = this.#process(q, out, grants, linked);
        // a client that does not read its replies stops being served, instead of growing our memory
        while (state === "paused" && !out.failed) {
          await out.drained();
          state = this.#process(q, out, grants, linked);
        }
        if (state === "close" || out.failed) break;
      }
    } catch {
      // reset by peer or closed by close(): the connection's grants are released below
    } finally {
      for (const s of linked) s.end(); // a control connection's end ends its RDMA stream
      await out.drained();
      for (const rkey of grants) this.pool.release(rkey);
    }
  }

  /**
   * Serves the complete requests in `q`: `more` when it needs more bytes, `paused` when replies pile up unread,
   * `close` when the connection must be closed.
   */
  #process(q: ByteQueue, out: BatchWriter, grants: number[], linked: VerbsStream[]): "more" | "paused" | "close" {
    const pool = this.pool;
    const h = this.#h;
    while (q.length >= REQ_HEADER) {
      if (out.pending > MAX_BACKLOG) return "paused";
      const buf = q.view();
      if (this.#inView.buffer !== buf.buffer) this.#inView = new DataView(buf.buffer);
      readRequest(this.#inView, buf.byteOffset, h);
      if (h.magic !== REQ_MAGIC) {
        this.#error(out, Status.BAD_MAGIC, 0, `bad request magic 0x${h.magic.toString(16)}; closing`);
        return "close";
      }
      const payload = h.op === Op.WRITE || h.op === Op.VERBS_CONNECT ? h.len : 0;
      if (payload > MAX_IO) {
        this.#error(out, Status.TOO_LARGE, h.id, `payload of ${h.len} bytes exceeds ${MAX_IO}; closing`);
        return "close";
      }
      if (buf.length < REQ_HEADER + payload) return "more";
      this.#stats.requests++;
      if (h.flags !== 0 || h.reserved !== 0) {
        this.#error(out, Status.PROTOCOL, h.id, "flags and reserved fields must be 0");
      } else if (h.op === Op.READ) {
        if (h.len > MAX_IO) this.#error(out, Status.TOO_LARGE, h.id, `READ of ${h.len} bytes exceeds ${MAX_IO}`);
        else {
          const at = pool.locate(h.rkey, h.addr, h.len);
          if (typeof at !== "number") this.#denied(out, h.id, at);
          else {
            const r = this.#reply(out, Status.OK, h.id, h.len);
            r.set(pool.bytes.subarray(at, at + h.len), REP_HEADER);
            this.#stats.bytesRead += h.len;
          }
        }
      } else if (h.op === Op.WRITE) {
        const at = pool.locate(h.rkey, h.addr, h.len, true);
        if (typeof at !== "number") this.#denied(out, h.id, at);
        else {
          pool.bytes.set(buf.subarray(REQ_HEADER, REQ_HEADER + h.len), at);
          this.#reply(out, Status.OK, h.id, 0);
          this.#stats.bytesWritten += h.len;
        }
      } else if (h.op === Op.HELLO) {
        const g = grants.length > 0
          ? { status: Status.PROTOCOL, message: "this connection already holds a grant" }
          : pool.grant(h.addr);
        if ("status" in g) this.#denied(out, h.id, g);
        else {
          grants.push(g.rkey);
          const r = out.reserve(REP_HEADER + 24);
          encodeReply(r, 0, Status.OK, h.id, 24);
          r.set(encodeGrant(g), REP_HEADER);
        }
      } else if (h.op === Op.VERBS_CONNECT) {
        this.#verbsConnect(out, h.id, buf.subarray(REQ_HEADER, REQ_HEADER + h.len), linked);
      } else {
        this.#error(out, Status.BAD_OP, h.id, `unknown op ${h.op}`);
      }
      q.consume(REQ_HEADER + payload);
    }
    return "more";
  }

  /** Sets up an RDMA queue pair for the client and serves the same protocol over it. */
  #verbsConnect(out: BatchWriter, id: number, info: Uint8Array, linked: VerbsStream[]): void {
    if (!this.#verbs) {
      this.#error(out, Status.VERBS_UNAVAILABLE, id, "this server serves TCP only (start it with --verbs)");
      return;
    }
    if (info.length !== QP_INFO_BYTES) {
      this.#error(out, Status.PROTOCOL, id, `VERBS_CONNECT carries ${QP_INFO_BYTES} bytes, got ${info.length}`);
      return;
    }
    let stream: VerbsStream;
    try {
      stream = new VerbsStream();
      stream.connect(decodeQpInfo(info));
    } catch (e) {
      this.#error(out, Status.VERBS_UNAVAILABLE, id, `RDMA setup failed: ${(e as Error).message}`);
      return;
    }
    linked.push(stream);
    const r = out.reserve(REP_HEADER + QP_INFO_BYTES);
    encodeReply(r, 0, Status.OK, id, QP_INFO_BYTES);
    r.set(encodeQpInfo(stream.local), REP_HEADER);
    this.#service.spawn(stream, (c) => this.#serve(c));
  }

  /** Reserves a reply of `len` payload bytes with its header written; the payload goes at REP_HEADER. */
  #reply(out: BatchWriter, status: number, id: number, len: number): Uint8Array {
    const r = out.reserve(REP_HEADER + len);
    // the batch writer swaps between two buffers: a DataView per swap, not per reply
    if (this.#outView.buffer !== r.buffer) this.#outView = new DataView(r.buffer);
    putReply(this.#outView, r.byteOffset, status, id, len);
    return r;
  }

  #denied(out: BatchWriter, id: number, d: AccessDenied): void {
    this.#error(out, d.status, id, d.message);
  }

  #error(out: BatchWriter, status: number, id: number, message: string): void {
    this.#stats.errors++;
    const text = encoder.encode(message);
    const r = out.reserve(REP_HEADER + text.length);
    encodeReply(r, 0, status, id, text.length);
    r.set(text, REP_HEADER);
  }
}

/**
 * The NBD server: listens on TCP, negotiates with fixed newstyle, and serves each connection's chosen export.
 * `await using` stops it and drops every connection.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { BatchWriter, StreamReader } from "../netio/mod.ts";
import type { BlockBackend } from "./backend.ts";
import { negotiate } from "./handshake.ts";
import { newStats, serveTransmission, type TransmissionStats } from "./transmission.ts";

/** How to start an NBD server. */
export interface NbdServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** TCP port (default 0: a free one). */
  port?: number;
  /** Exports by name; QEMU's `nbd://host:port/<name>` picks one. */
  exports: Record<string, BlockBackend>;
}

/** A running NBD server. */
export class NbdServer implements AsyncDisposable {
  readonly host: string;
  readonly port: number;
  #listener: Deno.TcpListener;
  #exports: Map<string, BlockBackend>;
  #conns = new Set<Deno.TcpConn>();
  #serving = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #closed = false;
  #stats: TransmissionStats = newStats();
  #handshakes = { completed: 0, refused: 0 };

  private constructor(listener: Deno.TcpListener, exports: Map<string, BlockBackend>) {
    this.#listener = listener;
    this.#exports = exports;
    const a = listener.addr as Deno.NetAddr;
    this.host = a.hostname;
    this.port = a.port;
    this.#accepting = this.#acceptLoop();
  }

  /** Validates the options and starts listening. */
  static start(options: NbdServerOptions): NbdServer {
    const where = "nbd server";
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? 0;
    if (typeof host !== "string" || host === "") throw new InputError("host", "an address", host, { where });
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InputError("port", "an integer between 0 and 65535", port, { where });
    }
    if (!options.exports || typeof options.exports !== "object") {
      throw new InputError("exports", "an object mapping export names to block devices", options.exports, { where });
    }
    const exports = new Map(Object.entries(options.exports));
    if (exports.size === 0) throw new InputError("exports", "at least one export", {}, { where });
    for (const [name, dev] of exports) {
      if (new TextEncoder().encode(name).length > 4096) {
        throw new InputError(`exports.${name.slice(0, 20)}…`, "a name of at most 4096 bytes", name, { where });
      }
      if (!dev || typeof dev.read !== "function" || !Number.isSafeInteger(dev.size) || dev.size < 0) {
        throw new InputError(`exports.${name}`, "a block device with a size and read/write/trim/flush", dev, { where });
      }
    }
    return new NbdServer(Deno.listen({ hostname: host, port, transport: "tcp" }), exports);
  }

  /** `nbd://host:port/<name>` for QEMU. */
  url(name: string): string {
    return `nbd://${this.host}:${this.port}/${encodeURIComponent(name)}`;
  }

  /** Traffic counters over all connections. */
  stats(): TransmissionStats & { connections: number; handshakes: number; refused: number } {
    return {
      ...this.#stats,
      connections: this.#conns.size,
      handshakes: this.#handshakes.completed,
      refused: this.#handshakes.refused,
    };
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await this.#accepting;
    await Promise.allSettled([...this.#serving]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        break;
      }
      const p = this.#serve(conn).finally(() => this.#serving.delete(p));
      this.#serving.add(p);
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    this.#conns.add(conn);
    conn.setNoDelay(true);
    const r = new StreamReader(conn);
    const w = new BatchWriter(conn, () => {});
    try {
      const chosen = await negotiate(r, w, this.#exports);
      if (!chosen) {
        this.#handshakes.refused++;
        return;
      }
      this.#handshakes.completed++;
      await serveTransmission(r, w, chosen.device, this.#stats);
    } catch {
      // reset by peer, or closed by close()
    } finally {
      await w.drained();
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
}

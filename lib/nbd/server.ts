/**
 * The NBD server: listens on TCP, negotiates with fixed newstyle, and serves each connection's chosen export.
 * `await using` stops it and drops every connection.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { BatchWriter, StreamReader, TcpService } from "../netio/mod.ts";
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
  #service: TcpService;
  #exports: Map<string, BlockBackend>;
  #stats: TransmissionStats = newStats();
  #handshakes = { completed: 0, refused: 0 };

  private constructor(listener: Deno.TcpListener, exports: Map<string, BlockBackend>) {
    this.#exports = exports;
    this.#service = new TcpService(listener, (conn) => this.#serve(conn));
    this.host = this.#service.addr.hostname;
    this.port = this.#service.addr.port;
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
      connections: this.#service.connections,
      handshakes: this.#handshakes.completed,
      refused: this.#handshakes.refused,
    };
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    return this.#service.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
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
    } finally {
      await w.drained();
    }
  }
}

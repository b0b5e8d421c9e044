/**
 * The lifecycle every TCP server here shares (the memory server and the NBD server): accept connections (Nagle off)
 * and serve each; `close` stops listening, closes every open connection so its handler ends, and waits for them.
 * @module
 */

/** Something a service can close to end its handler. */
export interface Closable {
  close(): void;
}

/** A listener with its connections and their handlers. */
export class TcpService {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  #listener: Deno.TcpListener;
  #conns = new Set<Closable>();
  #serving = new Set<Promise<void>>();
  #accepting: Promise<void>;
  #closed = false;

  /** Starts accepting on `listener`; `serve` handles one connection until it ends (its errors are swallowed). */
  constructor(listener: Deno.TcpListener, serve: (conn: Deno.TcpConn) => Promise<void>) {
    this.#listener = listener;
    this.addr = listener.addr as Deno.NetAddr;
    this.#accepting = this.#acceptLoop(serve);
  }

  /** Connections being served. */
  get connections(): number {
    return this.#conns.size;
  }

  /** Serves `conn` (from the listener, or another stream such as an RDMA queue pair) until `close`. */
  spawn<C extends Closable>(conn: C, serve: (conn: C) => Promise<void>): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conns.add(conn);
    const p: Promise<void> = serve(conn).catch(() => {}).finally(() => {
      this.#conns.delete(conn);
      this.#serving.delete(p);
      try {
        conn.close();
      } catch { /* closed */ }
    });
    this.#serving.add(p);
  }

  /** Stops listening, closes every connection and waits for their handlers. */
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

  async #acceptLoop(serve: (conn: Deno.TcpConn) => Promise<void>): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        break;
      }
      conn.setNoDelay(true);
      this.spawn(conn, serve);
    }
  }
}

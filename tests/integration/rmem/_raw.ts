/** A raw TCP client for protocol tests: sends bytes as given and reads back exactly what the server answers. */

/** A raw connection with a receive buffer. */
export class RawConn implements Disposable {
  conn: Deno.TcpConn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to `host:port`. */
  static async open(endpoint: string): Promise<RawConn> {
    const i = endpoint.lastIndexOf(":");
    const conn = await Deno.connect({ hostname: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) });
    conn.setNoDelay(true);
    return new RawConn(conn);
  }

  /** Writes every byte of `bytes`. */
  async send(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads exactly `n` bytes; null when the peer closed first. Fails after `timeoutMs`. */
  async recv(n: number, timeoutMs = 5000): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < n) {
      const chunk = new Uint8Array(65536);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = await Promise.race([
        this.conn.read(chunk),
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`recv(${n}) timed out`)), Math.max(1, deadline - Date.now()));
        }),
      ]).catch((e) => {
        if (/timed out/.test(e.message)) throw e;
        return null;
      }).finally(() => clearTimeout(timer));
      if (got === null) return null;
      const next = new Uint8Array(this.#buf.length + got);
      next.set(this.#buf);
      next.set(chunk.subarray(0, got), this.#buf.length);
      this.#buf = next;
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  /** True when the peer closed the connection (reads EOF or reset) within `timeoutMs`. */
  async closedByPeer(timeoutMs = 3000): Promise<boolean> {
    try {
      return (await this.recv(1, timeoutMs)) === null;
    } catch {
      return false;
    }
  }

  [Symbol.dispose](): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** Reads a connection into a ByteQueue until a wanted number of bytes is buffered. */
import { ByteQueue } from "./byte_queue.ts";

/** Anything with a Deno.Conn-like `read`. */
export interface Readable {
  read(p: Uint8Array): Promise<number | null>;
}

/** A buffered reader over one connection. */
export class StreamReader {
  /** The buffered, unconsumed bytes. */
  readonly queue: ByteQueue;
  #conn: Readable;

  constructor(conn: Readable, queue: ByteQueue = new ByteQueue()) {
    this.#conn = conn;
    this.queue = queue;
  }

  /** Reads until at least `n` bytes are buffered; false when the peer closed first. */
  async need(n: number): Promise<boolean> {
    while (this.queue.length < n) {
      const got = await this.#conn.read(this.queue.spare(Math.max(64 * 1024, n - this.queue.length)));
      if (got === null) return false;
      this.queue.commit(got);
    }
    return true;
  }

  /** Reads more bytes (at least one); false on end of stream. */
  async more(): Promise<boolean> {
    const got = await this.#conn.read(this.queue.spare());
    if (got === null) return false;
    this.queue.commit(got);
    return true;
  }

  /** Takes exactly `n` bytes (a copy) once they are buffered; null on end of stream. */
  async take(n: number): Promise<Uint8Array | null> {
    if (!await this.need(n)) return null;
    const out = this.queue.view().slice(0, n);
    this.queue.consume(n);
    return out;
  }
}

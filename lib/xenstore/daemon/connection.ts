/**
 * Framing of one client connection: accumulates bytes into xsd_sockmsg messages, and serialises writes so
 * replies and watch events never interleave. An oversized length field closes the connection, as xenstored does.
 * @module
 */
import { decodeHeader, HEADER_SIZE, PAYLOAD_MAX, type XsMessage } from "../wire.ts";

/** Splits a byte stream into messages. `push` returns complete messages; throws on an oversized length field. */
export class MessageReader {
  #buf = new Uint8Array(0);

  push(chunk: Uint8Array): XsMessage[] {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    const out: XsMessage[] = [];
    let off = 0;
    while (merged.length - off >= HEADER_SIZE) {
      const h = decodeHeader(merged.subarray(off));
      if (h.len > PAYLOAD_MAX) throw new RangeError(`payload length ${h.len} > ${PAYLOAD_MAX}`);
      if (merged.length - off - HEADER_SIZE < h.len) break;
      const payload = merged.slice(off + HEADER_SIZE, off + HEADER_SIZE + h.len);
      out.push({ type: h.type, reqId: h.reqId, txId: h.txId, payload });
      off += HEADER_SIZE + h.len;
    }
    this.#buf = merged.slice(off);
    return out;
  }
}

/**
 * Writes buffers to a connection in order; errors end the queue silently (the reader notices the close).
 * A peer that stops reading cannot make the daemon buffer without bound: past `maxBacklog` bytes queued, `write`
 * returns false and the caller drops the connection.
 */
export class OrderedWriter {
  #tail: Promise<void> = Promise.resolve();
  #broken = false;
  #backlog = 0;
  constructor(private readonly conn: Deno.Conn, private readonly maxBacklog = 4 << 20) {}

  /** Queues `data`; false when the backlog limit is exceeded (nothing queued then). */
  write(data: Uint8Array): boolean {
    if (this.#broken) return true;
    if (this.#backlog + data.length > this.maxBacklog) return false;
    this.#backlog += data.length;
    this.#tail = this.#tail.then(async () => {
      try {
        if (this.#broken) return;
        let off = 0;
        while (off < data.length) off += await this.conn.write(data.subarray(off));
      } catch {
        this.#broken = true;
      } finally {
        this.#backlog -= data.length;
      }
    });
    return true;
  }

  /** Resolves when everything queued so far is written. */
  flushed(): Promise<void> {
    return this.#tail;
  }
}

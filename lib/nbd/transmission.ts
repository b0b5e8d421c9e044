/**
 * NBD transmission phase, server side: READ, WRITE, FLUSH, TRIM, WRITE_ZEROES and DISC with simple replies.
 * Requests run concurrently and are answered as they complete (replies carry the client's handle). Requests
 * outside the export get EINVAL (reads) or ENOSPC (writes, trims); unknown commands and flags get EINVAL; a bad
 * request magic or an oversized WRITE ends the connection, since the stream can no longer be trusted.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { BatchWriter, StreamReader } from "../netio/mod.ts";
import { type BlockBackend, BlockIoError } from "./backend.ts";
import {
  Cmd,
  CmdFlag,
  MAX_PAYLOAD,
  NbdErr,
  REQUEST_HEADER,
  REQUEST_MAGIC,
  SIMPLE_REPLY_HEADER,
  SIMPLE_REPLY_MAGIC,
} from "./protocol.ts";

/** Reply bytes queued for one connection beyond which the server stops reading its requests. */
const MAX_BACKLOG = 64 << 20;
/** Requests served concurrently per connection; later ones wait in the receive buffer. */
const MAX_INFLIGHT = 256;

/** Counters of one export's traffic. */
export interface TransmissionStats {
  requests: number;
  errors: number;
  bytesRead: number;
  bytesWritten: number;
}

/** A fresh set of counters. */
export function newStats(): TransmissionStats {
  return { requests: 0, errors: 0, bytesRead: 0, bytesWritten: 0 };
}

function replyHeader(out: Uint8Array, error: number, handle: bigint): void {
  const v = new DataView(out.buffer, out.byteOffset, SIMPLE_REPLY_HEADER);
  v.setUint32(0, SIMPLE_REPLY_MAGIC);
  v.setUint32(4, error);
  v.setBigUint64(8, handle);
}

/**
 * Reads `[offset, offset + length)` and queues the reply. A device with `readInto` delivering the whole range
 * at once has it copied straight into the outgoing buffer (no allocation); pieces are gathered first. Rejects
 * (nothing queued) when the device fails.
 */
function readReply(dev: BlockBackend, w: BatchWriter, offset: number, length: number, handle: bigint): Promise<void> {
  const send = (d: Uint8Array) => {
    const out = w.reserve(SIMPLE_REPLY_HEADER + length);
    replyHeader(out, 0, handle);
    out.set(d, SIMPLE_REPLY_HEADER);
  };
  if (!dev.readInto) return dev.read(offset, length).then(send);
  let gathered: Uint8Array | undefined;
  return dev.readInto(offset, length, (view, at) => {
    if (at === 0 && view.length === length) send(view);
    else (gathered ??= new Uint8Array(length)).set(view, at);
  }).then(() => {
    if (gathered) send(gathered);
  });
}

/** NBD error value for a backend failure. */
export function errnoOf(e: unknown): number {
  if (e instanceof BlockIoError) return e.errno;
  if (e instanceof InputError) return NbdErr.EINVAL;
  return NbdErr.EIO;
}

/** Serves requests until DISC, end of stream or a fatal framing error; waits for in-flight requests. */
export async function serveTransmission(
  r: StreamReader,
  w: BatchWriter,
  dev: BlockBackend,
  stats: TransmissionStats,
): Promise<void> {
  const inflight = new Set<Promise<void>>();
  let readBytes = 0;
  const size = dev.size;
  const answer = (handle: bigint, error: number) => {
    if (error) stats.errors++;
    replyHeader(w.reserve(SIMPLE_REPLY_HEADER), error, handle);
  };
  const run = (handle: bigint, p: Promise<unknown>) => {
    const done = p.then(() => answer(handle, 0), (e) => answer(handle, errnoOf(e)));
    inflight.add(done);
    done.then(() => inflight.delete(done));
  };

  try {
    loop: while (!w.failed) {
      const q = r.queue;
      while (q.length >= REQUEST_HEADER) {
        // a client that does not read its replies stops being served, instead of growing our memory: bounded
        // are the requests in flight and the reply bytes queued or coming (reads in flight)
        while (!w.failed) {
          if (inflight.size >= MAX_INFLIGHT || (readBytes > 0 && readBytes + w.pending > MAX_BACKLOG)) {
            await Promise.race(inflight);
          } else if (w.pending > MAX_BACKLOG) await w.drained();
          else break;
        }
        if (w.failed) break loop;
        const buf = q.view();
        const v = new DataView(buf.buffer, buf.byteOffset, REQUEST_HEADER);
        if (v.getUint32(0) !== REQUEST_MAGIC) break loop;
        const flags = v.getUint16(4);
        const type = v.getUint16(6);
        const handle = v.getBigUint64(8);
        const offset64 = v.getBigUint64(16);
        const length = v.getUint32(24);
        const payload = type === Cmd.WRITE ? length : 0;
        if (payload > MAX_PAYLOAD) {
          answer(handle, NbdErr.EINVAL);
          break loop;
        }
        if (buf.length < REQUEST_HEADER + payload) break;
        const data = payload ? buf.subarray(REQUEST_HEADER, REQUEST_HEADER + payload) : undefined;
        q.consume(REQUEST_HEADER + payload);
        stats.requests++;

        const inRange = offset64 + BigInt(length) <= BigInt(size);
        const offset = Number(offset64);
        if (flags & ~(CmdFlag.FUA | CmdFlag.NO_HOLE)) {
          answer(handle, NbdErr.EINVAL);
          continue;
        }
        switch (type) {
          case Cmd.READ: {
            if (!inRange || length === 0 || length > MAX_PAYLOAD) {
              answer(handle, NbdErr.EINVAL);
              break;
            }
            readBytes += length;
            const done = readReply(dev, w, offset, length, handle).then(() => {
              readBytes -= length;
              stats.bytesRead += length;
            }, (e) => {
              readBytes -= length;
              answer(handle, errnoOf(e));
            });
            inflight.add(done);
            done.then(() => inflight.delete(done));
            break;
          }
          case Cmd.WRITE:
            if (!inRange) answer(handle, NbdErr.ENOSPC);
            else if (length === 0) answer(handle, 0);
            else {
              stats.bytesWritten += length;
              run(handle, dev.write(offset, data!));
            }
            break;
          case Cmd.TRIM:
          case Cmd.WRITE_ZEROES:
            if (!inRange) answer(handle, NbdErr.ENOSPC);
            else if (length === 0) answer(handle, 0);
            else run(handle, type === Cmd.TRIM ? dev.trim(offset, length) : dev.writeZeroes(offset, length));
            break;
          case Cmd.FLUSH:
            run(handle, Promise.allSettled([...inflight]).then(() => dev.flush()));
            break;
          case Cmd.DISC:
            break loop;
          default:
            answer(handle, NbdErr.EINVAL);
        }
      }
      if (!await r.more()) break;
    }
  } finally {
    while (inflight.size) await Promise.allSettled([...inflight]);
    await w.drained();
  }
}

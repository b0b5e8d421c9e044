/**
 * NBD transmission phase, server side: READ, WRITE, FLUSH, TRIM, WRITE_ZEROES and DISC with simple replies.
 * Requests run concurrently and are answered as they complete (replies carry the client's handle). Requests
 * outside the export get EINVAL (reads) or ENOSPC (writes, trims); unknown commands and flags get EINVAL; a bad
 * request magic or an oversized WRITE ends the connection, since the stream can no longer be trusted.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { BatchWriter, StreamReader } from "../netio/mod.ts";
import { BLOCK_BYTES as BLOCK, type BlockBackend, BlockIoError } from "./backend.ts";
import { Inflight } from "./inflight.ts";
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

/** Writes a simple reply header: magic, error, and the request's handle (as its two 32-bit halves). */
function replyHeader(out: Uint8Array, error: number, hi: number, lo: number): void {
  putU32(out, 0, SIMPLE_REPLY_MAGIC);
  putU32(out, 4, error);
  putU32(out, 8, hi);
  putU32(out, 12, lo);
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/**
 * Reads `[offset, offset + length)` and queues the reply. A device with `readInto` delivering the whole range
 * at once has it copied straight into the outgoing buffer (no allocation); pieces are gathered first. Rejects
 * (nothing queued) when the device fails.
 */
function readReply(
  dev: BlockBackend,
  w: BatchWriter,
  offset: number,
  length: number,
  hi: number,
  lo: number,
): Promise<void> {
  const send = (d: Uint8Array) => {
    const out = w.reserve(SIMPLE_REPLY_HEADER + length);
    replyHeader(out, 0, hi, lo);
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
  const inflight = new Inflight();
  let readBytes = 0;
  const size = dev.size;
  const answer = (hi: number, lo: number, error: number) => {
    if (error) stats.errors++;
    replyHeader(w.reserve(SIMPLE_REPLY_HEADER), error, hi, lo);
  };
  const run = (hi: number, lo: number, p: Promise<unknown>) => {
    const done: Promise<void> = p.then(() => {
      inflight.remove(done);
      answer(hi, lo, 0);
    }, (e) => {
      inflight.remove(done);
      answer(hi, lo, errnoOf(e));
    });
    inflight.add(done);
  };
  // one DataView per receive buffer, not per request
  let view: DataView = new DataView(new ArrayBuffer(0));

  try {
    loop: while (!w.failed) {
      const q = r.queue;
      while (q.length >= REQUEST_HEADER) {
        // a client that does not read its replies stops being served, instead of growing our memory: bounded
        // are the requests in flight and the reply bytes queued or coming (reads in flight)
        while (!w.failed) {
          if (inflight.size >= MAX_INFLIGHT || (readBytes > 0 && readBytes + w.pending > MAX_BACKLOG)) {
            await inflight.next();
          } else if (w.pending > MAX_BACKLOG) await w.drained();
          else break;
        }
        if (w.failed) break loop;
        const buf = q.view();
        if (view.buffer !== buf.buffer) view = new DataView(buf.buffer);
        const at = buf.byteOffset;
        if (view.getUint32(at) !== REQUEST_MAGIC) break loop;
        const flags = view.getUint16(at + 4);
        const type = view.getUint16(at + 6);
        const hi = view.getUint32(at + 8), lo = view.getUint32(at + 12);
        const offsetHi = view.getUint32(at + 16);
        // offsets of 2^53 and more are out of range of any export; below that a Number is exact
        const offset = offsetHi < 0x200000 ? offsetHi * 0x100000000 + view.getUint32(at + 20) : Infinity;
        const length = view.getUint32(at + 24);
        const payload = type === Cmd.WRITE ? length : 0;
        if (payload > MAX_PAYLOAD) {
          answer(hi, lo, NbdErr.EINVAL);
          break loop;
        }
        if (buf.length < REQUEST_HEADER + payload) break;
        const data = payload ? buf.subarray(REQUEST_HEADER, REQUEST_HEADER + payload) : undefined;
        q.consume(REQUEST_HEADER + payload);
        stats.requests++;

        const inRange = offset + length <= size;
        if (flags & ~(CmdFlag.FUA | CmdFlag.NO_HOLE)) {
          answer(hi, lo, NbdErr.EINVAL);
          continue;
        }
        switch (type) {
          case Cmd.READ: {
            if (!inRange || length === 0 || length > MAX_PAYLOAD) {
              answer(hi, lo, NbdErr.EINVAL);
              break;
            }
            readBytes += length;
            if (dev.readBlock && length === BLOCK && offset % BLOCK === 0) {
              // the hot path: one block, callbacks instead of promises
              const ticket = inflight.start();
              dev.readBlock(offset / BLOCK, (view) => {
                const out = w.reserve(SIMPLE_REPLY_HEADER + BLOCK);
                replyHeader(out, 0, hi, lo);
                out.set(view, SIMPLE_REPLY_HEADER);
                readBytes -= BLOCK;
                stats.bytesRead += BLOCK;
                inflight.end(ticket);
              }, (e) => {
                readBytes -= BLOCK;
                answer(hi, lo, errnoOf(e));
                inflight.end(ticket);
              });
              break;
            }
            const done: Promise<void> = readReply(dev, w, offset, length, hi, lo).then(() => {
              inflight.remove(done);
              readBytes -= length;
              stats.bytesRead += length;
            }, (e) => {
              inflight.remove(done);
              readBytes -= length;
              answer(hi, lo, errnoOf(e));
            });
            inflight.add(done);
            break;
          }
          case Cmd.WRITE:
            if (!inRange) answer(hi, lo, NbdErr.ENOSPC);
            else if (length === 0) answer(hi, lo, 0);
            else if (dev.writeBlock && length === BLOCK && offset % BLOCK === 0) {
              stats.bytesWritten += length;
              const ticket = inflight.start();
              dev.writeBlock(offset / BLOCK, data!, () => {
                answer(hi, lo, 0);
                inflight.end(ticket);
              }, (e) => {
                answer(hi, lo, errnoOf(e));
                inflight.end(ticket);
              }, (flags & CmdFlag.FUA) !== 0);
            } else {
              stats.bytesWritten += length;
              run(hi, lo, dev.write(offset, data!));
            }
            break;
          case Cmd.TRIM:
          case Cmd.WRITE_ZEROES:
            if (!inRange) answer(hi, lo, NbdErr.ENOSPC);
            else if (length === 0) answer(hi, lo, 0);
            else run(hi, lo, type === Cmd.TRIM ? dev.trim(offset, length) : dev.writeZeroes(offset, length));
            break;
          case Cmd.FLUSH:
            run(hi, lo, inflight.settled().then(() => dev.flush()));
            break;
          case Cmd.DISC:
            break loop;
          default:
            answer(hi, lo, NbdErr.EINVAL);
        }
      }
      if (!await r.more()) break;
    }
  } finally {
    await inflight.idle();
    await w.drained();
  }
}

/**
 * NBD fixed newstyle negotiation, server side: greeting, client flags, then options until NBD_OPT_GO or
 * NBD_OPT_EXPORT_NAME picks an export (or the client aborts). Supports EXPORT_NAME, ABORT, LIST, INFO and GO;
 * every other option gets NBD_REP_ERR_UNSUP, malformed ones NBD_REP_ERR_INVALID.
 * @module
 */
import type { BatchWriter, StreamReader } from "../netio/mod.ts";
import type { BlockBackend } from "./backend.ts";
import {
  FLAG_C_FIXED_NEWSTYLE,
  FLAG_C_NO_ZEROES,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  Info,
  MAX_OPTION,
  MAX_PAYLOAD,
  NBDMAGIC,
  Opt,
  Rep,
  REPLY_MAGIC,
  TFlag,
} from "./protocol.ts";

/** Transmission flags every export advertises. */
export const EXPORT_FLAGS = TFlag.HAS_FLAGS | TFlag.SEND_FLUSH | TFlag.SEND_FUA | TFlag.SEND_TRIM |
  TFlag.SEND_WRITE_ZEROES;

/** The export a client chose. */
export interface Chosen {
  name: string;
  device: BlockBackend;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function reply(w: BatchWriter, option: number, type: number, data: Uint8Array = new Uint8Array(0)): void {
  const out = w.reserve(20 + data.length);
  const v = new DataView(out.buffer, out.byteOffset, 20);
  v.setBigUint64(0, REPLY_MAGIC);
  v.setUint32(8, option);
  v.setUint32(12, type);
  v.setUint32(16, data.length);
  out.set(data, 20);
}

function errorReply(w: BatchWriter, option: number, type: number, message: string): void {
  reply(w, option, type, enc.encode(message));
}

function infoExport(size: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint16(0, Info.EXPORT);
  v.setBigUint64(2, BigInt(size));
  v.setUint16(10, EXPORT_FLAGS);
  return b;
}

function infoBlockSize(): Uint8Array {
  const b = new Uint8Array(14);
  const v = new DataView(b.buffer);
  v.setUint16(0, Info.BLOCK_SIZE);
  v.setUint32(2, 1);
  v.setUint32(6, 4096);
  v.setUint32(10, MAX_PAYLOAD);
  return b;
}

/**
 * Runs the negotiation on one connection. Returns the chosen export, or null when the connection must be closed
 * (client aborted, bad magic, unknown flags, unknown export under EXPORT_NAME, oversized option, end of stream).
 */
export async function negotiate(
  r: StreamReader,
  w: BatchWriter,
  exports: ReadonlyMap<string, BlockBackend>,
): Promise<Chosen | null> {
  const hello = w.reserve(18);
  const hv = new DataView(hello.buffer, hello.byteOffset, 18);
  hv.setBigUint64(0, NBDMAGIC);
  hv.setBigUint64(8, IHAVEOPT);
  hv.setUint16(16, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);

  const cf = await r.take(4);
  if (!cf) return null;
  const clientFlags = new DataView(cf.buffer).getUint32(0);
  if (clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) return null;
  const noZeroes = (clientFlags & FLAG_C_NO_ZEROES) !== 0;

  while (true) {
    const head = await r.take(16);
    if (!head) return null;
    const hv2 = new DataView(head.buffer);
    if (hv2.getBigUint64(0) !== IHAVEOPT) return null;
    const option = hv2.getUint32(8);
    const length = hv2.getUint32(12);
    if (length > MAX_OPTION) {
      if (option !== Opt.EXPORT_NAME) errorReply(w, option, Rep.ERR_TOO_BIG, `option data over ${MAX_OPTION} bytes`);
      return null;
    }
    const data = await r.take(length);
    if (!data) return null;
    const dv = new DataView(data.buffer);

    switch (option) {
      case Opt.EXPORT_NAME: {
        const device = exports.get(dec.decode(data));
        if (!device) return null;
        const out = w.reserve(noZeroes ? 10 : 134);
        const ov = new DataView(out.buffer, out.byteOffset, 10);
        ov.setBigUint64(0, BigInt(device.size));
        ov.setUint16(8, EXPORT_FLAGS);
        if (!noZeroes) out.fill(0, 10);
        return { name: dec.decode(data), device };
      }
      case Opt.ABORT:
        reply(w, option, Rep.ACK);
        return null;
      case Opt.LIST:
        if (length !== 0) {
          errorReply(w, option, Rep.ERR_INVALID, "NBD_OPT_LIST takes no data");
          break;
        }
        for (const name of exports.keys()) {
          const nb = enc.encode(name);
          const d = new Uint8Array(4 + nb.length);
          new DataView(d.buffer).setUint32(0, nb.length);
          d.set(nb, 4);
          reply(w, option, Rep.SERVER, d);
        }
        reply(w, option, Rep.ACK);
        break;
      case Opt.INFO:
      case Opt.GO: {
        const nameLen = length >= 4 ? dv.getUint32(0) : -1;
        const nReq = nameLen >= 0 && length >= 6 + nameLen ? dv.getUint16(4 + nameLen) : -1;
        if (nameLen < 0 || nReq < 0 || length !== 6 + nameLen + 2 * nReq) {
          errorReply(w, option, Rep.ERR_INVALID, "malformed NBD_OPT_INFO/GO data");
          break;
        }
        const name = dec.decode(data.subarray(4, 4 + nameLen));
        const device = exports.get(name);
        if (!device) {
          errorReply(w, option, Rep.ERR_UNKNOWN, `no export named ${JSON.stringify(name)}`);
          break;
        }
        const wanted = Array.from({ length: nReq }, (_, i) => dv.getUint16(6 + nameLen + 2 * i));
        reply(w, option, Rep.INFO, infoExport(device.size));
        if (wanted.includes(Info.BLOCK_SIZE)) reply(w, option, Rep.INFO, infoBlockSize());
        if (wanted.includes(Info.NAME)) {
          const nb = enc.encode(name);
          const d = new Uint8Array(2 + nb.length);
          new DataView(d.buffer).setUint16(0, Info.NAME);
          d.set(nb, 2);
          reply(w, option, Rep.INFO, d);
        }
        reply(w, option, Rep.ACK);
        if (option === Opt.GO) return { name, device };
        break;
      }
      default:
        errorReply(w, option, Rep.ERR_UNSUP, `option ${option} is not supported`);
    }
  }
}

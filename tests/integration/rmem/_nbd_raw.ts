/** Hand-built NBD frames for protocol and fuzz tests (big-endian, as the protocol fixes). */
import { IHAVEOPT, Opt, REQUEST_MAGIC } from "../../../lib/nbd/protocol.ts";
import { RawConn } from "./_raw.ts";

/** An option request. */
export function option(opt: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(16 + data.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, IHAVEOPT);
  v.setUint32(8, opt);
  v.setUint32(12, data.length);
  b.set(data, 16);
  return b;
}

/** NBD_OPT_GO / NBD_OPT_INFO data for `name` with info requests `infos`. */
export function goData(name: string, infos: number[] = []): Uint8Array {
  const nb = new TextEncoder().encode(name);
  const b = new Uint8Array(4 + nb.length + 2 + 2 * infos.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, nb.length);
  b.set(nb, 4);
  v.setUint16(4 + nb.length, infos.length);
  infos.forEach((t, i) => v.setUint16(6 + nb.length + 2 * i, t));
  return b;
}

/** A transmission request. */
export function request(type: number, handle: bigint, offset: bigint, length: number, data?: Uint8Array, flags = 0) {
  const b = new Uint8Array(28 + (data?.length ?? 0));
  const v = new DataView(b.buffer);
  v.setUint32(0, REQUEST_MAGIC);
  v.setUint16(4, flags);
  v.setUint16(6, type);
  v.setBigUint64(8, handle);
  v.setBigUint64(16, offset);
  v.setUint32(24, length);
  if (data) b.set(data, 28);
  return b;
}

/** Reads one option reply. */
export async function optionReply(c: RawConn): Promise<{ opt: number; type: number; data: Uint8Array } | null> {
  const h = await c.recv(20);
  if (!h) return null;
  const v = new DataView(h.buffer);
  const len = v.getUint32(16);
  const data = len ? await c.recv(len) : new Uint8Array(0);
  if (!data) return null;
  return { opt: v.getUint32(8), type: v.getUint32(12), data };
}

/** Reads one simple reply header. */
export async function simpleReply(c: RawConn): Promise<{ magic: number; error: number; handle: bigint } | null> {
  const h = await c.recv(16);
  if (!h) return null;
  const v = new DataView(h.buffer);
  return { magic: v.getUint32(0), error: v.getUint32(4), handle: v.getBigUint64(8) };
}

/** Connects, reads the greeting, sends client flags and GOes to `name`; returns the connection in transmission. */
export async function openExport(endpoint: string, name: string): Promise<RawConn> {
  const c = await RawConn.open(endpoint);
  await c.recv(18);
  await c.send(new Uint8Array([0, 0, 0, 3]));
  await c.send(option(Opt.GO, goData(name)));
  while (true) {
    const r = await optionReply(c);
    if (!r) throw new Error("closed during GO");
    if (r.type === 1) return c;
    if (r.type & 0x80000000) throw new Error(`GO refused: ${r.type.toString(16)}`);
  }
}

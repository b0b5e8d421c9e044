/**
 * A xenstore client in pure TypeScript speaking the wire protocol over a unix socket — no libxenstore needed, so it
 * runs in agents and inside the event loop that also hosts the embedded xenstored. Same interface as the libxenstore
 * client (`XenstoreClient`).
 * @module
 */
import { MissingError } from "../core/errors.ts";
import { ErrnoError, errnoNumber } from "../ffi/errno.ts";
import { XenstoreClientBase } from "./client_base.ts";
import { MessageReader, OrderedWriter } from "./daemon/connection.ts";
import { EventQueue } from "./event_queue.ts";
import { formatPerm, parsePerm } from "./perms.ts";
import type { WatchEvent, XsPerm } from "./types.ts";
import { concatBytes, encodeMessage, nulStrings, splitStrings, text, XsType, xsTypeName } from "./wire.ts";

interface Pending {
  resolve: (payload: Uint8Array) => void;
  reject: (e: Error) => void;
  what: string;
}

/** A wire-protocol connection to a xenstored socket (ours or Xen's). */
export class XsWireClient extends XenstoreClientBase {
  readonly #conn: Deno.Conn;
  readonly #writer: OrderedWriter;
  readonly #pending = new Map<number, Pending>();
  readonly #events = new EventQueue();
  #nextReq = 1;
  #closed = false;
  readonly #loop: Promise<void>;

  private constructor(readonly target: string, conn: Deno.Conn) {
    super();
    this.#conn = conn;
    this.#writer = new OrderedWriter(conn);
    this.#loop = this.#readLoop();
  }

  /** Connects to the daemon socket at `socketPath`. Throws MissingError when nothing listens there. */
  static async connect(socketPath: string): Promise<XsWireClient> {
    try {
      return new XsWireClient(socketPath, await Deno.connect({ transport: "unix", path: socketPath }));
    } catch (e) {
      throw new MissingError(
        `no xenstored listening on ${socketPath} (${(e as Error).message})`,
        "start one with `deno task xenstored --socket PATH` or point at Xen's (/run/xenstored/socket)",
      );
    }
  }

  /** Sends one raw request and returns the reply payload; an XS_ERROR reply throws ErrnoError. */
  request(type: number, payload: Uint8Array, tx = 0, what = ""): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new ErrnoError(`xenstore ${xsTypeName(type)} ${what}`, 107, "closed"));
    const reqId = this.#nextReq++;
    if (this.#nextReq > 0x7fffffff) this.#nextReq = 1;
    return new Promise((resolve, reject) => {
      this.#pending.set(reqId, { resolve, reject, what: `xenstore ${xsTypeName(type)} ${what}`.trim() });
      this.#writer.write(encodeMessage(type, reqId, tx, payload));
    });
  }

  async #readLoop(): Promise<void> {
    const reader = new MessageReader();
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        for (const m of reader.push(buf.subarray(0, n))) {
          if (m.type === XsType.WATCH_EVENT) {
            const [path, token] = splitStrings(m.payload);
            this.#events.push({ path: path ?? "", token: token ?? "" });
            continue;
          }
          const p = this.#pending.get(m.reqId);
          if (!p) continue;
          this.#pending.delete(m.reqId);
          if (m.type === XsType.ERROR) {
            const name = splitStrings(m.payload)[0] ?? "EIO";
            p.reject(new ErrnoError(p.what, errnoNumber(name) ?? 5));
          } else p.resolve(m.payload);
        }
      }
    } catch { /* connection closed */ }
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(new ErrnoError(p.what, 104, "xenstored closed the connection"));
    this.#pending.clear();
    this.#events.close();
  }

  async #orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof ErrnoError && e.errnoName === "ENOENT") return undefined;
      throw e;
    }
  }

  protected rawRead(path: string, tx: number): Promise<Uint8Array | undefined> {
    return this.#orUndefined(this.request(XsType.READ, nulStrings(path), tx, path));
  }

  protected async rawWrite(path: string, value: Uint8Array, tx: number): Promise<void> {
    await this.request(XsType.WRITE, concatBytes(nulStrings(path), value), tx, path);
  }

  protected async rawMkdir(path: string, tx: number): Promise<void> {
    await this.request(XsType.MKDIR, nulStrings(path), tx, path);
  }

  protected async rawRm(path: string, tx: number): Promise<void> {
    await this.request(XsType.RM, nulStrings(path), tx, path);
  }

  protected async rawList(path: string, tx: number): Promise<string[] | undefined> {
    try {
      const r = await this.#orUndefined(this.request(XsType.DIRECTORY, nulStrings(path), tx, path));
      return r === undefined ? undefined : splitStrings(r);
    } catch (e) {
      if (!(e instanceof ErrnoError && e.errnoName === "E2BIG")) throw e;
      return await this.#listInParts(path, tx);
    }
  }

  /** DIRECTORY_PART: a long child list in chunks; restarts when the node's generation changes meanwhile. */
  async #listInParts(path: string, tx: number): Promise<string[] | undefined> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const names: string[] = [];
      let gen: string | undefined;
      let offset = 0;
      let restarted = false;
      while (true) {
        const r = await this.#orUndefined(
          this.request(XsType.DIRECTORY_PART, nulStrings(path, String(offset)), tx, path),
        );
        if (r === undefined) return undefined;
        const cut = r.indexOf(0);
        const g = text(r.subarray(0, cut));
        if (gen !== undefined && g !== gen) {
          restarted = true;
          break;
        }
        gen = g;
        const chunk = r.subarray(cut + 1);
        const last = chunk.length === 1 || (chunk.length >= 2 && chunk[chunk.length - 2] === 0);
        const body = last ? chunk.subarray(0, chunk.length - 1) : chunk;
        names.push(...splitStrings(body));
        offset += body.length;
        if (last) break;
      }
      if (!restarted) return names;
    }
    throw new ErrnoError(`xenstore DIRECTORY_PART ${path}`, 11, "directory kept changing while listed");
  }

  protected async rawGetPerms(path: string, tx: number): Promise<XsPerm[] | undefined> {
    const r = await this.#orUndefined(this.request(XsType.GET_PERMS, nulStrings(path), tx, path));
    return r === undefined ? undefined : splitStrings(r).map((s) => parsePerm(s));
  }

  protected async rawSetPerms(path: string, perms: XsPerm[], tx: number): Promise<void> {
    await this.request(XsType.SET_PERMS, nulStrings(path, ...perms.map(formatPerm)), tx, path);
  }

  async transactionStart(): Promise<number> {
    return Number(text(await this.request(XsType.TRANSACTION_START, nulStrings(""))).replace(/\0.*$/s, ""));
  }

  async transactionEnd(tx: number, commit: boolean): Promise<void> {
    await this.request(XsType.TRANSACTION_END, nulStrings(commit ? "T" : "F"), tx, `tx ${tx}`);
  }

  async watch(path: string, token: string): Promise<void> {
    await this.request(XsType.WATCH, nulStrings(path, token), 0, path);
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.request(XsType.UNWATCH, nulStrings(path, token), 0, path);
  }

  /** Path of domain `domid`'s home (`GET_DOMAIN_PATH`). */
  async domainPath(domid: number): Promise<string> {
    return splitStrings(await this.request(XsType.GET_DOMAIN_PATH, nulStrings(String(domid))))[0];
  }

  nextEvent(timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent | undefined> {
    return this.#events.next(timeoutMs, signal);
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch { /* closed */ }
    }
    await this.#loop;
  }
}

/**
 * The embedded xenstored: Xen's xenstore wire protocol over a unix socket, for labs and tests without a Xen
 * hypervisor. Debian's xenstore-utils and libxenstore talk to it unchanged (point them at it with
 * `XENSTORED_PATH=<socket>`). Connections on the main socket are dom0 (privileged), like xenstored's socket;
 * `listenDomain(domid, path)` opens an extra socket whose connections act as that unprivileged domain — the
 * stand-in for a guest's shared-memory ring, which needs a hypervisor.
 * @module
 */
import { encodeMessage, nulStrings, XsType, xsTypeName } from "../wire.ts";
import type { XsMessage } from "../wire.ts";
import { MessageReader, OrderedWriter } from "./connection.ts";
import { XsError } from "./errors.ts";
import { DEFAULT_LIMITS, type XsLimits } from "./limits.ts";
import * as ops from "./ops.ts";
import { presentPath } from "./paths.ts";
import { accessFor } from "./perms.ts";
import { type Client, type DaemonState, handleRequest, type Reply } from "./requests.ts";
import type { Change } from "./transaction.ts";
import { XsTree } from "./tree.ts";
import { matchWatch } from "./watches.ts";

/** Node the embedded xenstored creates so clients can tell it from Xen's xenstored (which has no such node). */
export const EMBEDDED_MARK_PATH = "/tool/xenstored/implementation";
/** Its value. */
export const EMBEDDED_MARK = "hyperlab embedded xenstored (no hypervisor)";

/** Options of the embedded xenstored. */
export interface XenstoredOptions {
  /** Unix socket to listen on (removed first when it is a stale socket). */
  socketPath: string;
  /** Quota overrides. */
  limits?: Partial<XsLimits>;
  /** Receives one line per notable event (connections, protocol violations). */
  log?: (line: string) => void;
  /** Bytes of replies/events queued for a client that is not reading before it is disconnected (4 MiB). */
  maxOutputBacklog?: number;
}

/** Counters of a running daemon. */
export interface XenstoredStats {
  connections: number;
  nodes: number;
  watches: number;
  transactions: number;
  requests: number;
  /** Requests per message type name, e.g. `{ READ: 3, DIRECTORY_PART: 2 }`. */
  requestsByType: Record<string, number>;
  protocolErrors: number;
  /** Requests that hit a bug in the daemon (answered EIO); should stay 0. */
  internalErrors: number;
}

/** A running embedded xenstored. Dispose (or `close()`) to stop it and remove its sockets. */
export class EmbeddedXenstored implements AsyncDisposable {
  /** The live node tree (read it in tests; change it through clients). */
  readonly tree: XsTree = new XsTree();
  readonly #limits: XsLimits;
  readonly #log: (line: string) => void;
  readonly #maxBacklog: number;
  readonly #state: DaemonState;
  readonly #listeners: { listener: Deno.Listener; path: string; domid: number }[] = [];
  readonly #clients = new Set<Client>();
  readonly #serving = new Set<Promise<void>>();
  readonly #introduced = new Set<number>([0]);
  #nextClient = 1;
  #nextTx = 1;
  #requests = 0;
  readonly #byType: Record<string, number> = {};
  #protocolErrors = 0;
  #internalErrors = 0;
  #closed = false;

  private constructor(readonly socketPath: string, opts: XenstoredOptions) {
    this.#limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.#log = opts.log ?? (() => {});
    this.#maxBacklog = opts.maxOutputBacklog ?? 4 << 20;
    this.#state = {
      tree: this.tree,
      limits: this.#limits,
      introduced: this.#introduced,
      nextTxId: () => {
        const id = this.#nextTx++;
        if (this.#nextTx > 0xfffffff0) this.#nextTx = 1;
        return id;
      },
      event: (c, path, token) => this.#event(c, path, token),
      introduceDomain: (id) => this.introduceDomain(id),
      releaseDomain: (id) => this.releaseDomain(id),
      log: (line) => this.#log(line),
    };
    const init = { domid: 0, limits: this.#limits };
    ops.writeNode(this.tree, init, EMBEDDED_MARK_PATH, new TextEncoder().encode(EMBEDDED_MARK));
    ops.makeDir(this.tree, init, "/local/domain");
  }

  /** Starts a daemon listening on `opts.socketPath`. */
  static async start(opts: XenstoredOptions): Promise<EmbeddedXenstored> {
    const d = new EmbeddedXenstored(opts.socketPath, opts);
    await d.#listen(opts.socketPath, 0);
    d.#log(`xenstored: listening on ${opts.socketPath}`);
    return d;
  }

  /**
   * Opens an extra socket at `path` whose connections act as unprivileged domain `domid` (relative paths resolve
   * against `/local/domain/<domid>`, quotas apply). Introduces the domain.
   */
  async listenDomain(domid: number, path: string): Promise<void> {
    if (!Number.isInteger(domid) || domid <= 0 || domid > 0x7fef) {
      throw new RangeError(`domid: expected an integer 1..32751, got ${domid}`);
    }
    this.introduceDomain(domid);
    await this.#listen(path, domid);
  }

  /** Marks `domid` introduced and fires `@introduceDomain` (what XS_INTRODUCE does). */
  introduceDomain(domid: number): void {
    if (this.#introduced.has(domid)) return;
    this.#introduced.add(domid);
    this.#fire([{ path: "@introduceDomain", recursive: false }]);
  }

  /** Forgets `domid`, closes its connections and fires `@releaseDomain` (what XS_RELEASE does). */
  releaseDomain(domid: number): void {
    if (domid === 0 || !this.#introduced.delete(domid)) return;
    for (const c of this.#clients) if (c.domid === domid) this.#drop(c);
    for (const l of this.#listeners.filter((l) => l.domid === domid)) this.#closeListener(l);
    this.#fire([{ path: "@releaseDomain", recursive: false }]);
  }

  /** Current counters. */
  stats(): XenstoredStats {
    let watches = 0, transactions = 0;
    for (const c of this.#clients) {
      watches += c.watches.length;
      transactions += c.txs.size;
    }
    return {
      connections: this.#clients.size,
      nodes: this.tree.size,
      watches,
      transactions,
      requests: this.#requests,
      requestsByType: { ...this.#byType },
      protocolErrors: this.#protocolErrors,
      internalErrors: this.#internalErrors,
    };
  }

  /** Stops listening, closes every connection and removes the sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of [...this.#listeners]) this.#closeListener(l);
    for (const c of this.#clients) this.#drop(c, true);
    await Promise.allSettled([...this.#serving]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #listen(path: string, domid: number): Promise<void> {
    try {
      const st = await Deno.lstat(path);
      if (st.isSocket) await Deno.remove(path);
    } catch { /* absent */ }
    const listener = Deno.listen({ transport: "unix", path });
    const entry = { listener, path, domid };
    this.#listeners.push(entry);
    this.#track(this.#accept(entry));
  }

  #track(p: Promise<void>): void {
    this.#serving.add(p);
    p.finally(() => this.#serving.delete(p));
  }

  #closeListener(l: { listener: Deno.Listener; path: string }): void {
    const i = this.#listeners.indexOf(l as never);
    if (i >= 0) this.#listeners.splice(i, 1);
    try {
      l.listener.close();
    } catch { /* closed */ }
    try {
      Deno.removeSync(l.path);
    } catch { /* gone */ }
  }

  async #accept(l: { listener: Deno.Listener; domid: number }): Promise<void> {
    try {
      for await (const conn of l.listener) {
        if (this.#closed) {
          conn.close();
          break;
        }
        this.#track(this.#serve(conn, l.domid));
      }
    } catch { /* listener closed */ }
  }

  async #serve(conn: Deno.Conn, domid: number): Promise<void> {
    const c: Client = {
      id: this.#nextClient++,
      domid,
      conn,
      writer: new OrderedWriter(conn, this.#maxBacklog),
      watches: [],
      txs: new Map(),
    };
    this.#clients.add(c);
    const reader = new MessageReader();
    const buf = new Uint8Array(65536);
    try {
      while (this.#clients.has(c)) {
        const n = await conn.read(buf);
        if (n === null) break;
        let msgs: XsMessage[];
        try {
          msgs = reader.push(buf.subarray(0, n));
        } catch (e) {
          this.#protocolErrors++;
          this.#log(`xenstored: conn ${c.id} (dom${domid}) closed: ${(e as Error).message}`);
          break;
        }
        for (const m of msgs) {
          if (!this.#clients.has(c)) break;
          this.#handle(c, m);
        }
      }
    } catch { /* reset by peer or closed by us */ }
    this.#drop(c);
  }

  /** Forgets a client and closes its connection: after pending output, or at once when `now`. */
  #drop(c: Client, now = false): void {
    if (!this.#clients.delete(c)) return;
    c.watches.length = 0;
    c.txs.clear();
    const close = () => {
      try {
        c.conn.close();
      } catch { /* closed */ }
    };
    if (now) close();
    else c.writer.flushed().finally(close);
  }

  #handle(c: Client, m: XsMessage): void {
    this.#requests++;
    const name = xsTypeName(m.type);
    this.#byType[name] = (this.#byType[name] ?? 0) + 1;
    let reply: Reply;
    try {
      reply = handleRequest(this.#state, c, m);
    } catch (e) {
      if (!(e instanceof XsError)) {
        this.#internalErrors++;
        this.#log(`xenstored: internal error on ${xsTypeName(m.type)}: ${(e as Error).stack ?? e}`);
      }
      const errno = e instanceof XsError ? e.errno : "EIO";
      this.#send(c, encodeMessage(XsType.ERROR, m.reqId, m.txId, nulStrings(errno)));
      return;
    }
    this.#send(c, encodeMessage(m.type, m.reqId, m.txId, reply.payload));
    reply.after?.();
    if (reply.changes?.length) this.#fire(reply.changes);
  }

  #fire(changes: Change[]): void {
    for (const c of this.#clients) {
      for (const w of c.watches) {
        for (const ch of changes) {
          const hit = matchWatch(w, ch);
          if (hit === undefined) continue;
          if (c.domid !== 0 && !hit.startsWith("@")) {
            const node = this.tree.get(hit);
            if (node && !accessFor(node.perms, c.domid).read) continue;
          }
          this.#event(c, presentPath(hit, c.domid, w.relative), w.token);
        }
      }
    }
  }

  #event(c: Client, path: string, token: string): void {
    this.#send(c, encodeMessage(XsType.WATCH_EVENT, 0, 0, nulStrings(path, token)));
  }

  /** Queues a message; a client that does not read its replies and events is disconnected. */
  #send(c: Client, msg: Uint8Array): void {
    if (!this.#clients.has(c) || c.writer.write(msg)) return;
    this.#protocolErrors++;
    this.#log(`xenstored: conn ${c.id} (dom${c.domid}) closed: output backlog over the limit (client not reading)`);
    this.#drop(c, true);
  }
}

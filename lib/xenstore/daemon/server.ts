/**
 * The embedded xenstored: Xen's xenstore wire protocol over a unix socket, for labs and tests without a Xen
 * hypervisor. Debian's xenstore-utils and libxenstore talk to it unchanged (point them at it with
 * `XENSTORED_PATH=<socket>`). Connections on the main socket are dom0 (privileged), like xenstored's socket;
 * `listenDomain(domid, path)` opens an extra socket whose connections act as that unprivileged domain — the
 * stand-in for a guest's shared-memory ring, which needs a hypervisor.
 * @module
 */
import { concatBytes, encodeMessage, nulStrings, splitStrings, XsType, xsTypeName } from "../wire.ts";
import type { XsMessage } from "../wire.ts";
import { MessageReader, OrderedWriter } from "./connection.ts";
import { XsError } from "./errors.ts";
import { DEFAULT_LIMITS, type XsLimits } from "./limits.ts";
import * as ops from "./ops.ts";
import { domainPath, presentPath, resolvePath } from "./paths.ts";
import { accessFor, formatPerm, parsePerm } from "./perms.ts";
import { type Change, Transaction } from "./transaction.ts";
import { XsTree } from "./tree.ts";
import { matchWatch, type Watch } from "./watches.ts";

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

interface Client {
  id: number;
  domid: number;
  conn: Deno.Conn;
  writer: OrderedWriter;
  watches: Watch[];
  txs: Map<number, Transaction>;
}

interface Reply {
  payload: Uint8Array;
  changes?: Change[];
  after?: () => void;
}

const OK = nulStrings("OK");

/** A running embedded xenstored. Dispose (or `close()`) to stop it and remove its sockets. */
export class EmbeddedXenstored implements AsyncDisposable {
  /** The live node tree (read it in tests; change it through clients). */
  readonly tree: XsTree = new XsTree();
  readonly #limits: XsLimits;
  readonly #log: (line: string) => void;
  readonly #maxBacklog: number;
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
    const init = { domid: 0, limits: this.#limits };
    ops.makeDir(this.tree, init, "/tool/xenstored");
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
      reply = this.#dispatch(c, m);
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

  #dispatch(c: Client, m: XsMessage): Reply {
    const caller = { domid: c.domid, limits: this.#limits };
    const view = () => {
      if (m.txId === 0) return this.tree;
      const tx = c.txs.get(m.txId);
      if (!tx) throw new XsError("ENOENT", `no transaction ${m.txId}`);
      return tx;
    };
    const path = (raw: string, special = false) => resolvePath(raw, c.domid, this.#limits.maxRelPathLen, special);
    const changed = (changes: Change[]): Reply => {
      if (m.txId !== 0) {
        (view() as Transaction).changes.push(...changes);
        return { payload: OK };
      }
      return { payload: OK, changes };
    };
    switch (m.type) {
      case XsType.READ:
        return { payload: ops.readNode(view(), caller, path(args(m, 1)[0]).abs) };
      case XsType.WRITE: {
        const cut = m.payload.indexOf(0);
        if (cut < 0) throw new XsError("EINVAL", "WRITE without a NUL after the path");
        const p = path(new TextDecoder().decode(m.payload.subarray(0, cut))).abs;
        return changed(ops.writeNode(view(), caller, p, m.payload.slice(cut + 1)));
      }
      case XsType.MKDIR:
        return changed(ops.makeDir(view(), caller, path(args(m, 1)[0]).abs));
      case XsType.RM:
        return changed(ops.removeNode(view(), caller, path(args(m, 1)[0]).abs));
      case XsType.DIRECTORY: {
        const names = ops.listChildren(view(), caller, path(args(m, 1)[0]).abs);
        const payload = nulStrings(...names);
        if (payload.length > 4096) throw new XsError("E2BIG", "use DIRECTORY_PART");
        return { payload: names.length ? payload : new Uint8Array() };
      }
      case XsType.DIRECTORY_PART: {
        const [raw, offText] = args(m, 2);
        const off = uint(offText, "offset");
        const p = path(raw).abs;
        const v = view();
        const names = ops.listChildren(v, caller, p);
        const gen = nulStrings(String(v.get(p)?.gen ?? 0));
        const all = nulStrings(...names);
        if (off >= all.length) return { payload: concatBytes(gen, new Uint8Array(1)) };
        let end = off;
        const room = 4096 - gen.length - 1;
        while (end < all.length) {
          const next = all.indexOf(0, end) + 1;
          if (next - off > room) break;
          end = next;
        }
        if (end === off) throw new XsError("E2BIG");
        const chunk = all.subarray(off, end);
        return { payload: concatBytes(gen, chunk, end === all.length ? new Uint8Array(1) : new Uint8Array()) };
      }
      case XsType.GET_PERMS:
        return { payload: nulStrings(...ops.getPerms(view(), caller, path(args(m, 1)[0]).abs).map(formatPerm)) };
      case XsType.SET_PERMS: {
        const [raw, ...perms] = args(m, 2);
        return changed(ops.setPerms(view(), caller, path(raw).abs, perms.map(parsePerm)));
      }
      case XsType.WATCH: {
        const [raw, token] = args(m, 2);
        const r = path(raw, true);
        if (c.watches.some((w) => w.abs === r.abs && w.token === token)) throw new XsError("EEXIST");
        if (c.domid !== 0 && c.watches.length >= this.#limits.maxWatchesPerDomain) throw new XsError("E2BIG");
        c.watches.push({ abs: r.abs, given: raw, relative: r.relative, token });
        return { payload: OK, after: () => this.#event(c, raw, token) };
      }
      case XsType.UNWATCH: {
        const [raw, token] = args(m, 2);
        const r = path(raw, true);
        const i = c.watches.findIndex((w) => w.abs === r.abs && w.token === token);
        if (i < 0) throw new XsError("ENOENT");
        c.watches.splice(i, 1);
        return { payload: OK };
      }
      case XsType.RESET_WATCHES:
        c.watches.length = 0;
        c.txs.clear();
        return { payload: OK };
      case XsType.TRANSACTION_START: {
        if (m.txId !== 0) throw new XsError("EBUSY", "nested transaction");
        if (c.domid !== 0 && c.txs.size >= this.#limits.maxTransactionsPerDomain) throw new XsError("ENOSPC");
        const id = this.#nextTx++;
        if (this.#nextTx > 0xfffffff0) this.#nextTx = 1;
        c.txs.set(id, new Transaction(id, this.tree));
        return { payload: nulStrings(String(id)) };
      }
      case XsType.TRANSACTION_END: {
        const [how] = args(m, 1);
        if (how !== "T" && how !== "F") throw new XsError("EINVAL", "expected T or F");
        const tx = view();
        if (!(tx instanceof Transaction)) throw new XsError("EINVAL", "not in a transaction");
        c.txs.delete(tx.id);
        if (how === "F") return { payload: OK };
        tx.commit();
        return { payload: OK, changes: tx.changes };
      }
      case XsType.GET_DOMAIN_PATH:
        return { payload: nulStrings(domainPath(domid(args(m, 1)[0]))) };
      case XsType.IS_DOMAIN_INTRODUCED:
        return { payload: nulStrings(this.#introduced.has(domid(args(m, 1)[0])) ? "T" : "F") };
      case XsType.INTRODUCE: {
        privileged(c);
        const [d, mfn, port] = args(m, 3);
        const id = domid(d);
        uint(mfn, "mfn");
        uint(port, "event channel");
        if (id === 0) throw new XsError("EINVAL");
        this.introduceDomain(id);
        return { payload: OK };
      }
      case XsType.RELEASE: {
        privileged(c);
        const id = domid(args(m, 1)[0]);
        if (id === 0) throw new XsError("EINVAL");
        if (!this.#introduced.has(id)) throw new XsError("ENOENT");
        return { payload: OK, after: () => this.releaseDomain(id) };
      }
      case XsType.RESUME: {
        privileged(c);
        if (!this.#introduced.has(domid(args(m, 1)[0]))) throw new XsError("ENOENT");
        return { payload: OK };
      }
      case XsType.CONTROL:
        privileged(c);
        return { payload: this.#control(args(m, 1)) };
      case XsType.SET_TARGET:
        throw new XsError("ENOSYS", "SET_TARGET is not supported by the embedded xenstored");
      default:
        throw new XsError("EINVAL", `unknown message type ${m.type}`);
    }
  }

  #control(argv: string[]): Uint8Array {
    const [cmd, ...rest] = argv;
    switch (cmd) {
      case "help":
        return nulStrings("Supported commands:\nhelp\nprint <text>\ncheck\nquota\n");
      case "print":
        this.#log(`xenstored: ${rest.join(" ")}`);
        return OK;
      case "check":
        return OK;
      case "quota":
        return nulStrings(
          Object.entries(this.#limits).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n",
        );
      default:
        throw new XsError("EINVAL", `unknown control command ${cmd}`);
    }
  }
}

function privileged(c: Client): void {
  if (c.domid !== 0) throw new XsError("EACCES", "needs dom0");
}

/** The NUL-terminated string arguments of a request; at least `min`, and the payload must end in NUL. */
function args(m: XsMessage, min: number): string[] {
  if (m.payload.length === 0 || m.payload[m.payload.length - 1] !== 0) {
    throw new XsError("EINVAL", "arguments must be NUL-terminated");
  }
  const parts = splitStrings(m.payload);
  if (parts.length < min) throw new XsError("EINVAL", `expected ${min} arguments`);
  return parts;
}

function uint(s: string, what: string): number {
  if (!/^\d{1,10}$/.test(s)) throw new XsError("EINVAL", `${what} must be a number`);
  return Number(s);
}

function domid(s: string): number {
  const n = uint(s, "domid");
  if (n > 0x7fef) throw new XsError("EINVAL", "domid out of range");
  return n;
}

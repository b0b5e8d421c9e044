/**
 * One request of the xenstore protocol → its reply (or an XsError that becomes XS_ERROR): the dispatch table of
 * the embedded xenstored over the tree, transactions, watches and domains a `DaemonState` gives access to.
 * @module
 */
import { concatBytes, nulStrings, XsType } from "../wire.ts";
import type { XsMessage } from "../wire.ts";
import { args, domid, uint } from "./args.ts";
import type { OrderedWriter } from "./connection.ts";
import { XsError } from "./errors.ts";
import type { XsLimits } from "./limits.ts";
import * as ops from "./ops.ts";
import { domainPath, resolvePath } from "./paths.ts";
import { formatPerm, parsePerm } from "./perms.ts";
import { type Change, Transaction } from "./transaction.ts";
import type { XsTree } from "./tree.ts";
import type { Watch } from "./watches.ts";

/** One connection's state. */
export interface Client {
  id: number;
  domid: number;
  conn: Deno.Conn;
  writer: OrderedWriter;
  watches: Watch[];
  txs: Map<number, Transaction>;
}

/** A reply payload, the changes to announce to watchers, and work to do after the reply is queued. */
export interface Reply {
  payload: Uint8Array;
  changes?: Change[];
  after?: () => void;
}

/** What request handling needs from the daemon. */
export interface DaemonState {
  readonly tree: XsTree;
  readonly limits: XsLimits;
  readonly introduced: ReadonlySet<number>;
  nextTxId(): number;
  event(c: Client, path: string, token: string): void;
  introduceDomain(domid: number): void;
  releaseDomain(domid: number): void;
  log(line: string): void;
}

const OK = nulStrings("OK");

/** Handles one request of client `c`. */
export function handleRequest(d: DaemonState, c: Client, m: XsMessage): Reply {
  const caller = { domid: c.domid, limits: d.limits };
  const view = () => {
    if (m.txId === 0) return d.tree;
    const tx = c.txs.get(m.txId);
    if (!tx) throw new XsError("ENOENT", `no transaction ${m.txId}`);
    return tx;
  };
  const path = (raw: string, special = false) => resolvePath(raw, c.domid, d.limits.maxRelPathLen, special);
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
      if (c.domid !== 0 && c.watches.length >= d.limits.maxWatchesPerDomain) throw new XsError("E2BIG");
      c.watches.push({ abs: r.abs, given: raw, relative: r.relative, token });
      return { payload: OK, after: () => d.event(c, raw, token) };
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
      if (c.domid !== 0 && c.txs.size >= d.limits.maxTransactionsPerDomain) throw new XsError("ENOSPC");
      const id = d.nextTxId();
      c.txs.set(id, new Transaction(id, d.tree));
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
      return { payload: nulStrings(d.introduced.has(domid(args(m, 1)[0])) ? "T" : "F") };
    case XsType.INTRODUCE: {
      privileged(c);
      const [dom, mfn, port] = args(m, 3);
      const id = domid(dom);
      uint(mfn, "mfn");
      uint(port, "event channel");
      if (id === 0) throw new XsError("EINVAL");
      d.introduceDomain(id);
      return { payload: OK };
    }
    case XsType.RELEASE: {
      privileged(c);
      const id = domid(args(m, 1)[0]);
      if (id === 0) throw new XsError("EINVAL");
      if (!d.introduced.has(id)) throw new XsError("ENOENT");
      return { payload: OK, after: () => d.releaseDomain(id) };
    }
    case XsType.RESUME: {
      privileged(c);
      if (!d.introduced.has(domid(args(m, 1)[0]))) throw new XsError("ENOENT");
      return { payload: OK };
    }
    case XsType.CONTROL:
      privileged(c);
      return { payload: control(d, args(m, 1)) };
    case XsType.SET_TARGET:
      throw new XsError("ENOSYS", "SET_TARGET is not supported by the embedded xenstored");
    default:
      throw new XsError("EINVAL", `unknown message type ${m.type}`);
  }
}

function control(d: DaemonState, argv: string[]): Uint8Array {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "help":
      return nulStrings("Supported commands:\nhelp\nprint <text>\ncheck\nquota\n");
    case "print":
      d.log(`xenstored: ${rest.join(" ")}`);
      return OK;
    case "check":
      return OK;
    case "quota":
      return nulStrings(
        Object.entries(d.limits).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n",
      );
    default:
      throw new XsError("EINVAL", `unknown control command ${cmd}`);
  }
}

function privileged(c: Client): void {
  if (c.domid !== 0) throw new XsError("EACCES", "needs dom0");
}

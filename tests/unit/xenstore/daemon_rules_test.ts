/** The embedded xenstored's rules, tested on the tree directly: paths, permissions, implicit parents, transactions. */
import assert from "node:assert/strict";
import { XsError } from "../../../lib/xenstore/daemon/errors.ts";
import { DEFAULT_LIMITS } from "../../../lib/xenstore/daemon/limits.ts";
import * as ops from "../../../lib/xenstore/daemon/ops.ts";
import { resolvePath } from "../../../lib/xenstore/daemon/paths.ts";
import { accessFor } from "../../../lib/xenstore/daemon/perms.ts";
import { Transaction } from "../../../lib/xenstore/daemon/transaction.ts";
import { XsTree } from "../../../lib/xenstore/daemon/tree.ts";
import { matchWatch } from "../../../lib/xenstore/daemon/watches.ts";

const dom0 = { domid: 0, limits: DEFAULT_LIMITS };
const dom7 = { domid: 7, limits: DEFAULT_LIMITS };
const v = (s: string) => new TextEncoder().encode(s);
const errno = (name: string) => (e: unknown) => e instanceof XsError && e.errno === name;

Deno.test("paths: xenstored's validity rules and relative resolution", () => {
  assert.deepEqual(resolvePath("/a/b-c_d@e", 0, 2048), { abs: "/a/b-c_d@e", relative: false });
  assert.deepEqual(resolvePath("numa/x", 7, 2048), { abs: "/local/domain/7/numa/x", relative: true });
  for (const bad of ["/a/", "/a//b", "/a b", "/é", ""]) assert.throws(() => resolvePath(bad, 0, 2048), errno("EINVAL"));
  assert.throws(() => resolvePath("/" + "a".repeat(3072), 0, 4000), errno("EINVAL"));
  assert.throws(() => resolvePath("x".repeat(30), 7, 20), errno("EINVAL"), "relative quota");
  assert.throws(() => resolvePath("@introduceDomain", 0, 2048), errno("EINVAL"), "special only for watches");
  assert.equal(resolvePath("@releaseDomain", 0, 2048, true).abs, "@releaseDomain");
  assert.throws(() => resolvePath("@other", 0, 2048, true), errno("EINVAL"));
});

Deno.test("perms: owner and dom0 get all; listed domain gets its entry; others the first entry", () => {
  const perms = [{ id: 3, access: "r" as const }, { id: 7, access: "w" as const }, { id: 7, access: "b" as const }];
  assert.deepEqual(accessFor(perms, 0), { read: true, write: true, owner: true });
  assert.deepEqual(accessFor(perms, 3), { read: true, write: true, owner: true });
  assert.deepEqual(accessFor(perms, 7), { read: false, write: true, owner: false }, "first matching entry wins");
  assert.deepEqual(accessFor(perms, 9), { read: true, write: false, owner: false });
});

Deno.test("ops: write creates parents with inherited perms; rm of missing child is ok; rm / is EINVAL", () => {
  const t = new XsTree();
  ops.writeNode(t, dom0, "/x", v(""));
  ops.setPerms(t, dom0, "/x", [{ id: 0, access: "b" }]);
  ops.writeNode(t, dom7, "/x/y/z", v("1"));
  assert.deepEqual(t.get("/x")!.children, ["y"]);
  assert.deepEqual(t.get("/x/y")!.perms, [{ id: 7, access: "b" }], "creator owns, default access inherited");
  assert.equal(t.owned(7), 2);
  assert.deepEqual(ops.removeNode(t, dom0, "/x/nope"), []);
  assert.throws(() => ops.removeNode(t, dom0, "/nope/deeper"), errno("ENOENT"));
  assert.throws(() => ops.removeNode(t, dom0, "/"), errno("EINVAL"));
  ops.removeNode(t, dom0, "/x");
  assert.equal(t.get("/x/y/z"), undefined);
  assert.equal(t.owned(7), 0);
  assert.throws(() => ops.writeNode(t, dom7, "/q", v("1")), errno("EACCES"), "root is n0");
});

Deno.test("transactions: conflict on any touched node, including one that appeared", () => {
  const t = new XsTree();
  ops.writeNode(t, dom0, "/a", v("1"));
  const tx = new Transaction(1, t);
  assert.equal(tx.get("/b"), undefined);
  ops.writeNode(tx, dom0, "/c", v("x"));
  ops.writeNode(t, dom0, "/b", v("appeared"));
  assert.throws(() => tx.commit(), errno("EAGAIN"));
  const tx2 = new Transaction(2, t);
  ops.writeNode(tx2, dom0, "/a", v("2"));
  ops.writeNode(t, dom0, "/unrelated", v("1"));
  tx2.commit();
  assert.equal(new TextDecoder().decode(t.get("/a")!.value), "2");
});

Deno.test("watches: subtree match, recursive removal, specials", () => {
  const w = { abs: "/a/b", given: "/a/b", relative: false, token: "t" };
  assert.equal(matchWatch(w, { path: "/a/b/c", recursive: false }), "/a/b/c");
  assert.equal(matchWatch(w, { path: "/a/bc", recursive: false }), undefined);
  assert.equal(matchWatch(w, { path: "/a", recursive: true }), "/a/b");
  assert.equal(matchWatch(w, { path: "/a", recursive: false }), undefined);
  assert.equal(
    matchWatch({ ...w, abs: "@releaseDomain" }, { path: "@releaseDomain", recursive: false }),
    "@releaseDomain",
  );
  assert.equal(matchWatch({ ...w, abs: "/" }, { path: "@releaseDomain", recursive: false }), undefined);
});

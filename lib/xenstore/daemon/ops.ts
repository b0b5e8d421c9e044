/**
 * The node operations (read, write, mkdir, rm, directory, permissions) over a TreeView, with xenstored's access
 * rules: reading needs `r`, changing needs `w`, creating needs `w` on the closest existing ancestor and creates
 * missing parents (inheriting the parent's permissions; an unprivileged domain owns what it creates), a missing
 * node reports ENOENT only when its closest ancestor is readable (else EACCES), setting permissions needs ownership.
 * @module
 */
import { XsError } from "./errors.ts";
import type { XsLimits } from "./limits.ts";
import { baseName, childPath, parentOf } from "./paths.ts";
import { accessFor, type Perm } from "./perms.ts";
import type { Change } from "./transaction.ts";
import type { TreeView, XsNode } from "./tree.ts";

/** Who is asking. */
export interface Caller {
  domid: number;
  limits: XsLimits;
}

function closestAncestor(view: TreeView, path: string): [string, XsNode] {
  let p = path;
  while (true) {
    p = parentOf(p);
    const n = view.get(p);
    if (n) return [p, n];
    if (p === "/") throw new XsError("EIO", "root node missing");
  }
}

function missing(view: TreeView, caller: Caller, path: string): XsError {
  const [, anc] = closestAncestor(view, path);
  return accessFor(anc.perms, caller.domid).read ? new XsError("ENOENT", path) : new XsError("EACCES", path);
}

/** Returns the node at `path` when `caller` may read it. */
export function getReadable(view: TreeView, caller: Caller, path: string): XsNode {
  const node = view.get(path);
  if (!node) throw missing(view, caller, path);
  if (!accessFor(node.perms, caller.domid).read) throw new XsError("EACCES", path);
  return node;
}

/** READ. */
export function readNode(view: TreeView, caller: Caller, path: string): Uint8Array {
  return getReadable(view, caller, path).value;
}

/** DIRECTORY: child names in creation order. */
export function listChildren(view: TreeView, caller: Caller, path: string): readonly string[] {
  return getReadable(view, caller, path).children;
}

/** GET_PERMS. */
export function getPerms(view: TreeView, caller: Caller, path: string): readonly Perm[] {
  return getReadable(view, caller, path).perms;
}

function createNode(view: TreeView, caller: Caller, path: string, value: Uint8Array): void {
  const chain: string[] = [];
  let p = path;
  while (!view.get(p)) {
    chain.unshift(p);
    p = parentOf(p);
  }
  const anchor = view.get(p)!;
  const access = accessFor(anchor.perms, caller.domid);
  if (!access.write) throw new XsError("EACCES", `${p} is not writable`);
  if (caller.domid !== 0 && view.owned(caller.domid) + chain.length > caller.limits.maxNodesPerDomain) {
    throw new XsError("ENOSPC", `domain ${caller.domid} node quota`);
  }
  let parentPath = p;
  let parent = anchor;
  for (const cur of chain) {
    const perms: Perm[] = parent.perms.map((x) => ({ ...x }));
    if (caller.domid !== 0) perms[0] = { ...perms[0], id: caller.domid };
    view.put(parentPath, { ...parent, children: [...parent.children, baseName(cur)] });
    const node = { value: cur === path ? value : new Uint8Array(), perms, children: [] };
    view.put(cur, node);
    parentPath = cur;
    parent = { ...node, gen: 0 };
  }
}

/** WRITE: sets the value, creating the node and missing parents. */
export function writeNode(view: TreeView, caller: Caller, path: string, value: Uint8Array): Change[] {
  if (caller.domid !== 0 && value.length > caller.limits.maxEntrySize) {
    throw new XsError("ENOSPC", `value of ${value.length} bytes over the ${caller.limits.maxEntrySize} quota`);
  }
  const node = view.get(path);
  if (node) {
    if (!accessFor(node.perms, caller.domid).write) throw new XsError("EACCES", path);
    view.put(path, { ...node, value });
  } else {
    if (path === "/") throw new XsError("EINVAL");
    createNode(view, caller, path, value);
  }
  return [{ path, recursive: false }];
}

/** MKDIR: creates an empty node (and parents); an existing node is left alone. */
export function makeDir(view: TreeView, caller: Caller, path: string): Change[] {
  const node = view.get(path);
  if (node) {
    if (!accessFor(node.perms, caller.domid).write) throw new XsError("EACCES", path);
    return [];
  }
  createNode(view, caller, path, new Uint8Array());
  return [{ path, recursive: false }];
}

/** RM: removes a node and its subtree; a missing node whose parent exists is not an error. */
export function removeNode(view: TreeView, caller: Caller, path: string): Change[] {
  if (path === "/") throw new XsError("EINVAL", "cannot remove /");
  const node = view.get(path);
  if (!node) {
    const parent = view.get(parentOf(path));
    if (parent && accessFor(parent.perms, caller.domid).read) return [];
    throw missing(view, caller, path);
  }
  if (!accessFor(node.perms, caller.domid).write) throw new XsError("EACCES", path);
  const drop = (p: string) => {
    const n = view.get(p);
    if (!n) return;
    for (const c of n.children) drop(childPath(p, c));
    view.remove(p);
  };
  drop(path);
  const pp = parentOf(path);
  const parent = view.get(pp)!;
  const name = baseName(path);
  view.put(pp, { ...parent, children: parent.children.filter((c) => c !== name) });
  return [{ path, recursive: true }];
}

/** SET_PERMS: needs ownership; an unprivileged owner may not give the node away. */
export function setPerms(view: TreeView, caller: Caller, path: string, perms: Perm[]): Change[] {
  if (perms.length === 0) throw new XsError("EINVAL", "empty permission list");
  const node = view.get(path);
  if (!node) throw missing(view, caller, path);
  if (!accessFor(node.perms, caller.domid).owner) throw new XsError("EACCES", path);
  if (caller.domid !== 0 && perms[0].id !== node.perms[0].id) throw new XsError("EPERM", "cannot change owner");
  view.put(path, { ...node, perms });
  return [{ path, recursive: false }];
}

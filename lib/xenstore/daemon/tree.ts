/**
 * The node tree of the embedded xenstored: a flat map from absolute path to an immutable node (value, permissions,
 * ordered child names, generation). Operations read and write it through a `TreeView`, which is either the live
 * tree or a transaction's private overlay (see transaction.ts), so every operation is written once.
 * @module
 */
import type { Perm } from "./perms.ts";

/** One node. Never mutated in place: changes put a new object. */
export interface XsNode {
  readonly value: Uint8Array;
  readonly perms: readonly Perm[];
  /** Child names in creation order (as xenstored lists them). */
  readonly children: readonly string[];
  /** Generation: a fresh number each time the committed node changes. */
  readonly gen: number;
}

/** Read/write access to nodes by absolute path. */
export interface TreeView {
  get(path: string): XsNode | undefined;
  put(path: string, node: Omit<XsNode, "gen">): void;
  remove(path: string): void;
  /** Nodes owned by `domid` as this view sees them (for the per-domain node quota). */
  owned(domid: number): number;
}

/** The live tree. */
export class XsTree implements TreeView {
  readonly #nodes = new Map<string, XsNode>();
  readonly #owned = new Map<number, number>();
  #gen = 0;

  constructor() {
    this.put("/", { value: new Uint8Array(), perms: [{ id: 0, access: "n" }], children: [] });
  }

  /** Number of nodes. */
  get size(): number {
    return this.#nodes.size;
  }

  /** The newest generation number handed out. */
  get generation(): number {
    return this.#gen;
  }

  get(path: string): XsNode | undefined {
    return this.#nodes.get(path);
  }

  put(path: string, node: Omit<XsNode, "gen">): void {
    const before = this.#nodes.get(path);
    if (before) this.#count(before.perms[0].id, -1);
    this.#count(node.perms[0].id, +1);
    this.#nodes.set(path, { value: node.value, perms: node.perms, children: node.children, gen: ++this.#gen });
  }

  remove(path: string): void {
    const before = this.#nodes.get(path);
    if (!before) return;
    this.#count(before.perms[0].id, -1);
    this.#nodes.delete(path);
  }

  owned(domid: number): number {
    return this.#owned.get(domid) ?? 0;
  }

  #count(domid: number, delta: number): void {
    this.#owned.set(domid, (this.#owned.get(domid) ?? 0) + delta);
  }
}

/**
 * Transactions: a private overlay over the live tree that records the generation of every node it touched.
 * Commit fails with EAGAIN when any touched node changed (or appeared or vanished) in the live tree meanwhile —
 * the same optimistic scheme as Xen's C xenstored.
 * @module
 */
import { XsError } from "./errors.ts";
import type { TreeView, XsNode, XsTree } from "./tree.ts";

/** A change to announce to watchers: `recursive` for removals (watches below the path fire too). */
export interface Change {
  path: string;
  recursive: boolean;
}

/** One open transaction. */
export class Transaction implements TreeView {
  /** Changes made inside, fired on commit. */
  readonly changes: Change[] = [];
  readonly #live: XsTree;
  readonly #overlay = new Map<string, XsNode | null>();
  readonly #seen = new Map<string, number>();
  readonly #ownedDelta = new Map<number, number>();

  constructor(readonly id: number, live: XsTree) {
    this.#live = live;
  }

  get(path: string): XsNode | undefined {
    if (this.#overlay.has(path)) return this.#overlay.get(path) ?? undefined;
    const node = this.#live.get(path);
    if (!this.#seen.has(path)) this.#seen.set(path, node?.gen ?? -1);
    return node;
  }

  put(path: string, node: Omit<XsNode, "gen">): void {
    const before = this.get(path);
    if (before) this.#count(before.perms[0].id, -1);
    this.#count(node.perms[0].id, +1);
    this.#overlay.set(path, { ...node, gen: -1 });
  }

  remove(path: string): void {
    const before = this.get(path);
    if (before) this.#count(before.perms[0].id, -1);
    this.#overlay.set(path, null);
  }

  owned(domid: number): number {
    return this.#live.owned(domid) + (this.#ownedDelta.get(domid) ?? 0);
  }

  /** Applies the overlay to the live tree, or throws XsError EAGAIN on a conflict. */
  commit(): void {
    for (const [path, gen] of this.#seen) {
      if ((this.#live.get(path)?.gen ?? -1) !== gen) throw new XsError("EAGAIN", `${path} changed`);
    }
    for (const [path, node] of this.#overlay) {
      if (node) this.#live.put(path, node);
      else this.#live.remove(path);
    }
  }

  #count(domid: number, delta: number): void {
    this.#ownedDelta.set(domid, (this.#ownedDelta.get(domid) ?? 0) + delta);
  }
}

/**
 * Base of every verbs object: Disposable, close is idempotent, and closing an object first closes everything
 * created from it (children before parents; a queue pair is a child of its PD and of both its CQs).
 * @module
 */
import { HyperlabError } from "../core/errors.ts";

/** A verbs object with a native handle. */
export abstract class VerbsResource implements Disposable {
  #children = new Set<VerbsResource>();
  #parents: VerbsResource[];
  #handle: bigint;
  #closed = false;
  /** What this is, for messages (`PD`, `QP 0x12`…). */
  abstract readonly kind: string;

  protected constructor(handle: bigint, parents: VerbsResource[]) {
    this.#handle = handle;
    this.#parents = parents;
    for (const p of parents) p.#children.add(this);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The native handle; throws when the object was closed. */
  protected get handle(): bigint {
    if (this.#closed) throw new HyperlabError("verbs-closed", `${this.kind} was used after close`);
    return this.#handle;
  }

  /** Frees the native object (called once, after every child is closed). */
  protected abstract release(handle: bigint): void;

  /** Closes children (newest first), then this object. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const c of [...this.#children].reverse()) c.close();
    this.#closed = true;
    for (const p of this.#parents) p.#children.delete(this);
    this.release(this.#handle);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

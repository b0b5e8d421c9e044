/** An owned kernel file descriptor with idempotent close; the base of Kvm, Vm, Vcpu and EventFd. */
import { check, ErrnoError } from "../ffi/errno.ts";
import { kvmShim } from "./ffi.ts";

/** EBADF, the errno every operation on a closed object reports (as rust-vmm's kvm-ioctls does). */
export const EBADF = 9;

/** Owns one fd. After close the fd is -1, so later calls fail in the kernel with EBADF instead of reaching a reused fd. */
export abstract class OwnedFd implements Disposable {
  #fd: number;
  #children = new Set<Disposable>();

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The raw fd (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Registers an object that must close before this one (a VM's vCPUs, a vCPU's mapping). */
  protected adopt<T extends Disposable>(child: T): T {
    this.#children.add(child);
    return child;
  }

  /** Forgets a child that closed itself. */
  protected release(child: Disposable): void {
    this.#children.delete(child);
  }

  /** Throws ErrnoError EBADF for `op` when closed (for operations that would touch memory mapped from the fd). */
  protected ensureOpen(op: string): void {
    if (this.closed) throw new ErrnoError(op, EBADF, "object is closed");
  }

  /** Hook run after the children closed and before the fd closes. */
  protected beforeClose(): void {}

  /** Closes children (newest first), then the fd. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const c of [...this.#children].reverse()) c[Symbol.dispose]();
    this.#children.clear();
    this.beforeClose();
    const fd = this.#fd;
    this.#fd = -1;
    check("close", kvmShim().hl_close(fd));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Completion queues: a nonblocking poll, and a wait that blocks on a worker thread (nonblocking FFI). */
import { InputError, TimeoutError } from "../core/errors.ts";
import { check } from "../ffi/errno.ts";
import { verbsShim } from "./ffi.ts";
import { VerbsResource } from "./resource.ts";
import { decodeWcs, WC_SIZE, type WorkCompletion } from "./structs.ts";

const ETIMEDOUT = 110;

/** A completion queue (ibv_cq). */
export class CompletionQueue extends VerbsResource {
  readonly kind = "CQ";

  /** Use `RdmaDevice.createCq`. */
  constructor(parent: VerbsResource, handle: bigint) {
    super(handle, [parent]);
  }

  /** The native handle, for queue-pair creation. */
  get native(): bigint {
    return this.handle;
  }

  /** Completions available now (up to `max`), without waiting. */
  poll(max = 16): WorkCompletion[] {
    const b = new Uint8Array(WC_SIZE * max);
    const n = check("ibv_poll_cq", verbsShim().hl_verbs_poll_cq(this.handle, b, max));
    return decodeWcs(b, n);
  }

  /** Waits up to `timeoutMs` for at least one completion, off the JS thread; TimeoutError when none came. */
  async wait(max = 16, timeoutMs = 5000): Promise<WorkCompletion[]> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new InputError("timeoutMs", "an integer >= 0", timeoutMs);
    const b = new Uint8Array(WC_SIZE * max);
    const n = await verbsShim().hl_verbs_wait_cq(this.handle, b, max, timeoutMs);
    if (n === -ETIMEDOUT) throw new TimeoutError("wait for RDMA completion", timeoutMs);
    return decodeWcs(b, check("ibv_poll_cq", n));
  }

  protected release(handle: bigint): void {
    check("ibv_destroy_cq", verbsShim().hl_verbs_destroy_cq(handle));
  }
}

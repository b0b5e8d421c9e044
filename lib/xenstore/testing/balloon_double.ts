/**
 * TEST DOUBLE of Virtflex's in-guest balloon driver (not the real driver: that is kernel code in the Virtflex
 * guest). It follows the protocol the Virtflex sources describe, from the guest's side of xenstore, over a domain
 * connection of the embedded xenstored (relative paths, unprivileged):
 * watch `numa/topo_change`; on 1 (expand) or 2 (shrink) read every `numa/node/<n>/target` and the vCPUs'
 * `cpu/<c>/availability`, apply (here: record, after `applyDelayMs`), bump the guest's topo_version (what
 * `/proc/topo_change` returns) and reset `numa/topo_change` to 0 — giving up after 3 failed attempts, as the
 * driver does (so a missing `chmod b` leaves the flag non-zero).
 * @module
 */
import { ErrnoError } from "../../ffi/errno.ts";
import { XsWireClient } from "../wire_client.ts";

/** Guest-relative node the double writes so runs against it say so in their results. */
export const BALLOON_DOUBLE_MARK_PATH = "data/hyperlab-test-double";
/** Its value. */
export const BALLOON_DOUBLE_MARK = "TEST DOUBLE of the Virtflex balloon driver (hyperlab), not a real guest kernel";

/** One topology change the double applied. */
export interface AppliedChange {
  kind: "expand" | "shrink";
  /** node → target KiB as read when applying. */
  targets: Record<number, number>;
  /** vCPUs whose availability read `online`. */
  onlineVcpus: number[];
  /** topo_version after the change. */
  topoVersion: number;
  /** Whether resetting numa/topo_change to 0 succeeded. */
  reset: boolean;
}

/** Options of the double. */
export interface BalloonDoubleOptions {
  /** Domain socket of the embedded xenstored for this guest (`EmbeddedXenstored.listenDomain`). */
  socketPath: string;
  /** Simulated time to apply a change. Default 50 ms. */
  applyDelayMs?: number;
  /** Reset attempts before giving up (the driver's 3). */
  attempts?: number;
}

/** The guest-side responder. Dispose to stop it. */
export class BalloonDriverDouble implements AsyncDisposable {
  /** Changes applied so far. */
  readonly applied: AppliedChange[] = [];
  /** The guest's topo_version (what /proc/topo_change would return). */
  topoVersion = 0;
  readonly #xs: XsWireClient;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #opts: Required<BalloonDoubleOptions>;

  private constructor(xs: XsWireClient, opts: Required<BalloonDoubleOptions>) {
    this.#xs = xs;
    this.#opts = opts;
    this.#loop = this.#run();
  }

  /** Connects as the guest and starts watching `numa/topo_change`. */
  static async start(opts: BalloonDoubleOptions): Promise<BalloonDriverDouble> {
    const xs = await XsWireClient.connect(opts.socketPath);
    await xs.write(BALLOON_DOUBLE_MARK_PATH, BALLOON_DOUBLE_MARK);
    await xs.watch("numa/topo_change", "virtflex-balloon");
    return new BalloonDriverDouble(xs, { applyDelayMs: 50, attempts: 3, ...opts });
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const ev = await this.#xs.nextEvent(60_000, signal);
      if (!ev) continue;
      const flag = await this.#xs.read("numa/topo_change").catch(() => undefined);
      if (flag !== "1" && flag !== "2") continue;
      await new Promise((r) => setTimeout(r, this.#opts.applyDelayMs));
      if (signal.aborted) return;
      const targets: Record<number, number> = {};
      for (const n of (await this.#xs.list("numa/node")) ?? []) {
        const t = await this.#xs.read(`numa/node/${n}/target`);
        if (t !== undefined) targets[Number(n)] = Number(t);
      }
      const onlineVcpus: number[] = [];
      for (const c of (await this.#xs.list("cpu")) ?? []) {
        if ((await this.#xs.read(`cpu/${c}/availability`)) === "online") onlineVcpus.push(Number(c));
      }
      this.topoVersion++;
      let reset = false;
      for (let i = 0; i < this.#opts.attempts && !reset; i++) {
        try {
          await this.#xs.write("numa/topo_change", "0");
          reset = true;
        } catch (e) {
          if (!(e instanceof ErrnoError)) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      this.applied.push({
        kind: flag === "1" ? "expand" : "shrink",
        targets,
        onlineVcpus: onlineVcpus.sort((a, b) => a - b),
        topoVersion: this.topoVersion,
        reset,
      });
    }
  }

  /** Stops the double and closes its connection. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#xs.rm(BALLOON_DOUBLE_MARK_PATH).catch(() => {});
    await this.#xs.close();
    await this.#loop.catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Sends each job to the dispatcher its `executor` names (`local` or `slurm`).
 * @module
 */
import type { Dispatcher, DispatchHandle, DispatchRequest } from "./dispatcher.ts";

/** Routes by `job.executor`. */
export class RoutingDispatcher implements Dispatcher {
  readonly name: string;
  readonly #by: { local: Dispatcher; slurm?: Dispatcher };

  constructor(by: { local: Dispatcher; slurm?: Dispatcher }) {
    this.#by = by;
    this.name = by.local.name;
  }

  #pick(req: DispatchRequest): Dispatcher {
    const d = req.job.executor === "slurm" ? this.#by.slurm : this.#by.local;
    if (!d) throw new Error(`job "${req.job.name}" uses executor ${req.job.executor}, which this scheduler lacks`);
    return d;
  }

  start(req: DispatchRequest): DispatchHandle {
    return this.#pick(req).start(req);
  }

  resume(req: DispatchRequest): DispatchHandle | null {
    const d = this.#pick(req);
    return d.resume ? d.resume(req) : null;
  }
}

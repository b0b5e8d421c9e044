/**
 * Sends each job to the dispatcher its `executor` names (`local` or `slurm`).
 * @module
 */
import type { Dispatcher, DispatchHandle, DispatchRequest } from "./dispatcher.ts";

/** Routes by `job.executor`. */
export class RoutingDispatcher implements Dispatcher {
  readonly name: string;
  readonly #by: { local: Dispatcher; slurm?: Dispatcher };

  /** Dispatchers by executor name. */
  constructor(by: { local: Dispatcher; slurm?: Dispatcher }) {
    this.#by = by;
    this.name = by.local.name;
  }

  #pick(req: DispatchRequest): Dispatcher {
    const d = req.job.executor === "slurm" ? this.#by.slurm : this.#by.local;
    if (!d) throw new Error(`job "${req.job.name}" uses executor ${req.job.executor}, which this scheduler lacks`);
    return d;
  }

  /** Starts the run with the job's executor. */
  start(req: DispatchRequest): DispatchHandle {
    return this.#pick(req).start(req);
  }

  /** Follows a run with the job's executor, when it can. */
  resume(req: DispatchRequest): DispatchHandle | null {
    const d = this.#pick(req);
    return d.resume ? d.resume(req) : null;
  }
}

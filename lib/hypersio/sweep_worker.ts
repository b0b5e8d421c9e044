/**
 * Worker entry of a sweep: receives `{ id, iotlbPath, config, options }` messages, runs the model, and posts back
 * `{ id, summary }` or `{ id, error }`.
 * @module
 */
import { formatError } from "../core/errors.ts";
import { runModel } from "./model.ts";
import { summarize } from "./sweep_summary.ts";

interface Job {
  id: number;
  iotlbPath: string;
  config: unknown;
  options: Record<string, unknown>;
}

const self = globalThis as unknown as {
  onmessage: (e: MessageEvent<Job>) => void;
  postMessage: (m: unknown) => void;
};

self.onmessage = (e: MessageEvent<Job>) => {
  const job = e.data;
  try {
    const t0 = performance.now();
    const r = runModel(job.iotlbPath, job.config, job.options);
    self.postMessage({ id: job.id, summary: summarize(r, performance.now() - t0) });
  } catch (err) {
    self.postMessage({ id: job.id, error: formatError(err) });
  }
};

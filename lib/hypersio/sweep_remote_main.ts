/**
 * Point runner of a sweep on a node: reads one job `{ iotlbPath, config, options }` (JSON) from stdin, runs the model
 * exactly as a local sweep Worker does (`runModel` then `summarize`), and prints `{ "summary": … }` on stdout (exit 0)
 * or `{ "error": "…" }` (exit 3: the point itself failed, as it would locally). Any other exit means the node failed.
 * Shipped to nodes as one bundled JavaScript file (`deno bundle`), so a node needs neither the import map nor npm.
 * @module
 */
import { formatError } from "../core/errors.ts";
import { runModel } from "./model.ts";
import { summarize } from "./sweep_summary.ts";

/** Exit status of a point that failed on its own (bad input, model error): not the node's fault. */
export const POINT_FAILED_EXIT = 3;

/** Runs one job given as JSON text; returns the line to print and the exit status. */
export function runPointJob(text: string): { line: string; code: number } {
  try {
    const job = JSON.parse(text) as { iotlbPath?: unknown; config?: unknown; options?: unknown };
    if (typeof job.iotlbPath !== "string") throw new Error("job.iotlbPath: expected a trace path");
    const t0 = performance.now();
    const r = runModel(job.iotlbPath, job.config, (job.options ?? {}) as Record<string, unknown>);
    return { line: JSON.stringify({ summary: summarize(r, performance.now() - t0) }), code: 0 };
  } catch (e) {
    return { line: JSON.stringify({ error: formatError(e) }), code: POINT_FAILED_EXIT };
  }
}

if (import.meta.main) {
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  const { line, code } = runPointJob(text);
  const bytes = new TextEncoder().encode(line + "\n");
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  Deno.exit(code);
}

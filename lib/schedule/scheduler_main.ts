/**
 * Entry of `deno task scheduler [--results db] [--max-concurrent n] [--grace s] [--in-process] [--slurm]`:
 * the long-running loop that dispatches due jobs until SIGINT/SIGTERM (runs in progress are then ended and recorded
 * interrupted, and the lease is released so a standby scheduler takes over at once).
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { userCwd } from "../cli/resolve.ts";
import { DEFAULT_STORE_PATH, ResultsStore } from "../results/store.ts";
import { InProcessDispatcher } from "./in_process_dispatcher.ts";
import { JobStore } from "./job_store.ts";
import { RoutingDispatcher } from "./routing_dispatcher.ts";
import { Scheduler } from "./scheduler.ts";
import { SlurmDispatcher } from "./slurm_dispatcher.ts";
import { SubprocessDispatcher } from "./subprocess_dispatcher.ts";

function num(flag: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min) throw new InputError(flag, `a number >= ${min}`, v);
  return n;
}

try {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      results: { type: "string" },
      "max-concurrent": { type: "string" },
      grace: { type: "string" },
      "tick-ms": { type: "string" },
      "lease-ttl": { type: "string" },
      "in-process": { type: "boolean", default: false },
      "slurm-partition": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task scheduler [--results db] [--max-concurrent n] [--grace s] [--lease-ttl s] [--in-process]\n" +
        "       [--slurm-partition p]\n" +
        "Dispatches due jobs until Ctrl-C. One scheduler per store holds the lease; others stand by.",
    );
    Deno.exit(0);
  }
  const path = values.results
    ? resolve(userCwd(), values.results)
    : Deno.env.get("HYPERLAB_RESULTS") ?? DEFAULT_STORE_PATH;
  const results = ResultsStore.open(path);
  const local = values["in-process"] ? new InProcessDispatcher(results) : new SubprocessDispatcher(results.path);
  const slurm = new SlurmDispatcher(results.path, { partition: values["slurm-partition"] });
  const scheduler = new Scheduler({
    results,
    dispatcher: new RoutingDispatcher({ local, slurm }),
    maxConcurrent: num("--max-concurrent", values["max-concurrent"], 4, 1),
    graceMs: num("--grace", values.grace, 10, 0) * 1000,
    tickMs: num("--tick-ms", values["tick-ms"], 500, 10),
    leaseTtlMs: num("--lease-ttl", values["lease-ttl"], 5, 1) * 1000,
  });
  const jobs = new JobStore(results).listJobs();
  console.error(
    `scheduler ${scheduler.id} (pid ${Deno.pid}) on ${results.path}: ${jobs.length} job(s), ` +
      `${local.name} dispatch, max ${scheduler.maxConcurrent} at once`,
  );
  const ctrl = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => ctrl.abort());
  await scheduler.run(ctrl.signal);
  results.close();
  console.error("scheduler stopped");
  Deno.exit(0);
} catch (e) {
  console.error(`scheduler: ${formatError(e)}`);
  Deno.exit(e instanceof InputError ? 2 : 1);
}

/**
 * `deno task schedule <add|list|remove|pause|resume|run-now|history> …`: manage scheduled jobs in the results store.
 * Never prompts: a missing playbook parameter is an error at `add`.
 * @module
 */
import { resolve } from "node:path";
import Table from "cli-table3";
import { InputError } from "../core/errors.ts";
import { resolvePlaybook, userCwd } from "../cli/resolve.ts";
import { DEFAULT_STORE_PATH, ResultsStore } from "../results/store.ts";
import { addInputFromArgs } from "./add_args.ts";
import { addJob } from "./add_job.ts";
import { parseCron } from "./cron.ts";
import { compareJobRuns } from "./job_compare.ts";
import { JobStore } from "./job_store.ts";
import { Lease } from "./lease.ts";
import { nodeHolds } from "./node_locks.ts";
import { pidAlive } from "./pid.ts";
import { RoutingDispatcher } from "./routing_dispatcher.ts";
import { Scheduler } from "./scheduler.ts";
import { SlurmDispatcher } from "./slurm_dispatcher.ts";
import { followSweep, submitSweep } from "./slurm_sweep.ts";
import { sweepPointsFromArgs } from "./sweep_args.ts";
import { SubprocessDispatcher } from "./subprocess_dispatcher.ts";
import type { Job, Occurrence } from "./types.ts";

/** Usage text of `deno task schedule`. */
export const SCHEDULE_USAGE = `usage: deno task schedule <command> [--results <db>]
  add <playbook> --cron "<expr>" [--tz Zone] [--name n] [--inventory file|lab] [--catch-up skip|once]
      [--timeout s] [--retries n] [--backoff s] [--lock-wait s] [--nodes a,b] [--notify-cmd "cmd"]
      [--notify-file path] [--executor local|slurm] [--<param> value ...]
  list [--json]             jobs, their schedule and next due time
  status                    which scheduler holds the lease, running/pending occurrences, node locks
  remove <job>              stop scheduling a job (its history stays)
  pause <job> | resume <job>
  run-now <job>             run once now (queued for a running scheduler, else run in the foreground)
  history <job> [--limit n] [--json] occurrences: due time, status, attempts, run id, reason
  sweep <playbook> --grid p=v1,v2 [--grid q=…] [--<param> value …] [--partition p] [--parallel n] [--timeout s]
                            every grid point as one task of a Slurm job array; waits and prints the runs
  compare <job> [--baseline run] [--fail-on-change]
                            latest successful run vs the one before: metrics, 95% CIs, changes beyond noise
cron: 5 fields (min hour dom month dow) or 6 with seconds first; --tz defaults to UTC.
catch-up: due times that passed while no scheduler ran (older than the scheduler's --grace, default 10 s) are
  recorded as missed (skip, the default) or the latest of them runs once (once).
nodes: a job holds its nodes (--nodes, the playbook's nodes(params), else the --inventory's nodes) while it runs;
  an overlapping job waits up to --lock-wait seconds (default 600), then is recorded skipped.
notify: on failure, on recovery, and when a successful run's metrics changed beyond noise since the previous one;
  --notify-cmd gets the summary as JSON on stdin (and HYPERLAB_EVENT, _JOB, _STATUS, _RUN), --notify-file appends it.`;

/** Where output goes (tests capture it). */
export interface CliIo {
  out(text: string): void;
  now?: () => number;
}

function storePathFrom(argv: string[]): { path: string; rest: string[] } {
  const rest: string[] = [];
  let path: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--results") path = argv[++i];
    else if (argv[i].startsWith("--results=")) path = argv[i].slice(10);
    else rest.push(argv[i]);
  }
  if (path === "") throw new InputError("--results", "a results database path");
  const full = path ? resolve(userCwd(), path) : Deno.env.get("HYPERLAB_RESULTS") ?? DEFAULT_STORE_PATH;
  return { path: full, rest };
}

function iso(ms: number | null, tz?: string): string {
  if (ms === null) return "-";
  if (!tz || tz === "UTC") return new Date(ms).toISOString().replace(".000Z", "Z");
  const local = new Date(ms).toLocaleString("sv-SE", { timeZone: tz }).replace(" ", "T");
  return `${local} ${tz}`;
}

function table(head: string[], rows: (string | number | null)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null ? "" : String(c))));
  return t.toString();
}

function describeJob(j: Job): [string, string][] {
  return [
    ["job", `${j.name} (id ${j.id})`],
    ["playbook", `${j.playbook} (${j.playbookPath})`],
    ["schedule", `${j.cron} in ${j.tz}, catch-up ${j.catchUp}`],
    ["next due", iso(j.nextDueAt, j.tz)],
    ["params", JSON.stringify(j.params)],
    ["nodes", j.nodes.join(", ") || "-"],
    [
      "limits",
      `timeout ${j.timeoutS ?? "none"} s, retries ${j.retries} (backoff ${j.backoffS} s), lock wait ${j.lockWaitS} s`,
    ],
  ];
}

function historyRows(occ: Occurrence[], tz: string): (string | number | null)[][] {
  return occ.map((o) => [
    o.id,
    iso(o.scheduledAt, tz),
    o.kind,
    o.status,
    o.attempts,
    o.runId,
    o.dispatchedAt === null ? null : `${((o.dispatchedAt - o.scheduledAt) / 1000).toFixed(2)} s`,
    o.slurmJobId,
    (o.reason ?? "").split("\n")[0].slice(0, 100),
  ]);
}

/** Runs one `schedule` command. Returns the exit code; throws InputError for bad input. */
export async function scheduleCommand(argv: string[], io: CliIo): Promise<number> {
  const now = io.now ?? Date.now;
  const [cmd, ...args0] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    io.out(SCHEDULE_USAGE);
    return cmd ? 0 : 2;
  }
  const { path, rest: args } = storePathFrom(args0);
  const needJob = (): string => {
    const ref = args.find((a) => !a.startsWith("--"));
    if (!ref) throw new InputError("job", `a job name or id after \`schedule ${cmd}\``);
    return ref;
  };
  const known = ["add", "list", "remove", "pause", "resume", "run-now", "history", "compare", "status", "sweep"];
  if (!known.includes(cmd)) throw new InputError("command", known.join(" | "), cmd);
  if (cmd === "sweep") return await sweepCommand(path, args, io);
  const input = cmd === "add" ? await addInputFromArgs(args) : undefined;
  using results = ResultsStore.open(path);
  const jobs = new JobStore(results);
  switch (cmd) {
    case "add": {
      const job = await addJob(jobs, input!, now());
      io.out(`added job "${job.name}" (id ${job.id}); next due ${iso(job.nextDueAt, job.tz)}`);
      io.out(table(["field", "value"], describeJob(job)));
      return 0;
    }
    case "list": {
      const list = jobs.listJobs();
      if (args.includes("--json")) io.out(JSON.stringify(list));
      else if (!list.length) io.out("no scheduled jobs (deno task schedule add <playbook> --cron …)");
      else {
        io.out(table(
          ["id", "name", "playbook", "cron", "tz", "next due", "state", "last", "nodes"],
          list.map((j) => [
            j.id,
            j.name,
            j.playbook,
            j.cron,
            j.tz,
            iso(j.nextDueAt, j.tz),
            j.paused ? "paused" : "active",
            j.lastFinal,
            j.nodes.join(","),
          ]),
        ));
      }
      return 0;
    }
    case "remove": {
      const job = jobs.removeJob(needJob(), now());
      io.out(`removed job "${job.name}" (id ${job.id}); its history stays (schedule history ${job.id})`);
      return 0;
    }
    case "pause":
    case "resume": {
      const ref = needJob();
      const cur = jobs.getJob(ref, { includeRemoved: false });
      const next = cmd === "resume" ? parseCron(cur.cron, cur.tz).nextAfter(now()) : undefined;
      const job = jobs.setPaused(ref, cmd === "pause", next);
      io.out(
        `${cmd === "pause" ? "paused" : "resumed"} job "${job.name}"${
          cmd === "resume" ? `; next due ${iso(job.nextDueAt, job.tz)}` : ""
        }`,
      );
      return 0;
    }
    case "history": {
      const job = jobs.getJob(needJob(), { includeRemoved: true });
      const li = args.indexOf("--limit");
      const limit = li >= 0 ? Number(args[li + 1]) : 50;
      if (!Number.isInteger(limit) || limit <= 0) throw new InputError("--limit", "a positive integer", args[li + 1]);
      const occ = jobs.history(job.id, limit);
      if (args.includes("--json")) {
        io.out(JSON.stringify({ job, occurrences: occ }));
        return 0;
      }
      io.out(`job "${job.name}" (id ${job.id})${job.removedAt ? " [removed]" : ""}: ${occ.length} occurrence(s)`);
      if (occ.length) {
        io.out(
          table(["occ", "due", "kind", "status", "tries", "run", "late", "slurm", "reason"], historyRows(occ, job.tz)),
        );
      }
      return 0;
    }
    case "status": {
      const holder = new Lease(jobs.db).holder();
      const t = now();
      const live = holder && holder.expiresAt > t && (holder.hostname !== Deno.hostname() || pidAlive(holder.pid));
      io.out(
        live
          ? `scheduler ${holder.holder} (pid ${holder.pid} on ${holder.hostname}) holds the lease`
          : "no scheduler is running on this store (deno task scheduler)",
      );
      const running = jobs.occurrencesWithStatus("running");
      const pending = jobs.occurrencesWithStatus("pending");
      const name = (id: number) => jobs.getJob(id, { includeRemoved: true }).name;
      io.out(`${running.length} running, ${pending.length} pending`);
      if (running.length || pending.length) {
        io.out(table(
          ["occ", "job", "status", "due", "run", "pid", "slurm"],
          [...running, ...pending].map((o) => [
            o.id,
            name(o.jobId),
            o.status,
            iso(o.scheduledAt),
            o.runId,
            o.pid,
            o.slurmJobId,
          ]),
        ));
      }
      const holds = nodeHolds(jobs.db);
      if (holds.length) {
        io.out(
          table(
            ["node", "job", "occurrence", "since"],
            holds.map((h) => [h.node, name(h.jobId), h.occurrenceId, iso(h.acquiredAt)]),
          ),
        );
      }
      return 0;
    }
    case "compare": {
      const bi = args.indexOf("--baseline");
      const baseline = bi >= 0 ? Number(args[bi + 1]) : undefined;
      if (baseline !== undefined && (!Number.isInteger(baseline) || baseline <= 0)) {
        throw new InputError("--baseline", "a run id (positive integer)", args[bi + 1]);
      }
      const ref = args.find((a, i) => !a.startsWith("--") && (bi < 0 || i !== bi + 1));
      if (!ref) throw new InputError("job", "a job name or id after `schedule compare`");
      const cmp = compareJobRuns(jobs, ref, baseline);
      const cell = (c: { mean: number; ci95: number; n: number } | null) =>
        c ? `${+c.mean.toPrecision(6)}${c.n > 1 ? ` ± ${+c.ci95.toPrecision(3)}` : ""} (n=${c.n})` : "-";
      io.out(`run ${cmp.runs[1]} vs run ${cmp.runs[0]} (baseline)`);
      io.out(table(
        ["metric", "unit", `run ${cmp.runs[0]}`, `run ${cmp.runs[1]}`, "change", "verdict"],
        cmp.rows.map((r) => [
          r.metric,
          r.unit,
          cell(r.cells[0]),
          cell(r.cells[1]),
          r.deltaPct === null ? "" : `${r.deltaPct > 0 ? "+" : ""}${r.deltaPct.toFixed(2)} %`,
          r.significant === null ? "single sample" : r.significant ? "CHANGED (beyond noise)" : "within noise",
        ]),
      ));
      const changed = cmp.rows.filter((r) => r.significant).length;
      io.out(`${changed} metric(s) changed beyond noise`);
      return changed && args.includes("--fail-on-change") ? 1 : 0;
    }
    case "run-now": {
      const job = jobs.getJob(needJob(), { includeRemoved: false });
      const t = now();
      const id = jobs.recordOccurrence({
        jobId: job.id,
        scheduledAt: t,
        kind: "manual",
        status: "pending",
        readyAt: t,
      })!;
      const holder = new Lease(jobs.db).holder();
      if (holder && holder.expiresAt > t && (holder.hostname !== Deno.hostname() || pidAlive(holder.pid))) {
        io.out(`queued occurrence ${id} of job "${job.name}"; the running scheduler (pid ${holder.pid}) will start it`);
        return 0;
      }
      io.out(`running job "${job.name}" now (occurrence ${id})`);
      const scheduler = new Scheduler({
        results,
        dispatcher: new RoutingDispatcher({
          local: new SubprocessDispatcher(results.path),
          slurm: new SlurmDispatcher(results.path),
        }),
        only: new Set([id]),
        tickMs: 200,
        log: () => {},
      });
      const ctrl = new AbortController();
      const onSig = () => ctrl.abort();
      Deno.addSignalListener("SIGINT", onSig);
      try {
        const [occ] = await scheduler.runUntilFinal([id], ctrl.signal);
        await scheduler.shutdown();
        io.out(
          `occurrence ${id}: ${occ.status}${occ.runId ? ` (run ${occ.runId})` : ""}${
            occ.reason ? `: ${occ.reason}` : ""
          }`,
        );
        return occ.status === "ok" ? 0 : 1;
      } finally {
        Deno.removeSignalListener("SIGINT", onSig);
      }
    }
  }
  return 2;
}

/** `schedule sweep`: submits the grid as a Slurm job array, follows it, prints each point's run. */
async function sweepCommand(storePath: string, argv: string[], io: CliIo): Promise<number> {
  const opts: Record<string, string> = {};
  const rest: string[] = [];
  let spec: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (["--partition", "--parallel", "--timeout"].includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new InputError(a, "a value");
      opts[a] = v;
    } else if (spec === undefined && !a.startsWith("-")) spec = a;
    else rest.push(a);
  }
  if (!spec) throw new InputError("playbook", "a playbook name or path after `schedule sweep`");
  const num = (flag: string, int: boolean) => {
    if (opts[flag] === undefined) return undefined;
    const n = Number(opts[flag]);
    if (!Number.isFinite(n) || n <= 0 || (int && !Number.isInteger(n))) {
      throw new InputError(flag, int ? "a whole number >= 1" : "a positive number of seconds", opts[flag]);
    }
    return n;
  };
  const parallel = num("--parallel", true);
  const timeoutS = num("--timeout", false);
  const { playbook } = await resolvePlaybook(spec);
  const points = sweepPointsFromArgs(playbook, rest);
  using results = ResultsStore.open(storePath);
  const sub = await submitSweep({
    storePath: results.path,
    playbook: spec,
    points,
    partition: opts["--partition"],
    parallel,
    timeoutS,
  });
  io.out(`submitted ${points.length} point(s) as Slurm job array ${sub.arrayJobId}; waiting…`);
  const res = await followSweep(results, sub);
  io.out(table(
    ["point", "slurm task", "params", "run", "status"],
    res.map((r) => [r.index, r.slurmTask, JSON.stringify(r.params), r.runId, r.status]),
  ));
  return res.every((r) => r.status === "ok") ? 0 : 1;
}

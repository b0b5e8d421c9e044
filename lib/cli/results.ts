/**
 * `deno task results list | show <id> | export <id> --csv|--json | compare <id> <id> [...]`.
 * @module
 */
import { resolve } from "node:path";
import { formatError, HyperlabError, InputError } from "../core/errors.ts";
import { DEFAULT_STORE_PATH, ResultsStore } from "../results/store.ts";
import { compareRuns } from "../results/compare.ts";
import { metricsCsv } from "../results/export.ts";
import { writeStderr, writeStdout } from "./reporters.ts";
import { userCwd } from "./resolve.ts";
import { runSummaryJson } from "./summary.ts";
import { printTable } from "./table.ts";
import { REPORT_USAGE, resultsReportCommand } from "./results_report.ts";

const USAGE = () =>
  `Usage: deno task results <command> [--results <file>]
  list [--limit N] [--playbook NAME] [--status ok|failed|interrupted|running]
  show <id>                  steps, metrics, artifacts, plan and errors of one run
  export <id> --csv|--json   metrics as CSV, or the whole record as JSON (stdout, or --out <file>)
  compare <id> <id> [...]    metrics side by side with differences
  artifact <id> <name> --out <file>   writes an artifact's bytes
  ${REPORT_USAGE}`;

function fmtTime(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function dur(a: number, b: number | null): string {
  if (b === null) return "";
  const ms = b - a;
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function runId(v: string | undefined, field = "<id>"): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n <= 0) throw new InputError(field, "a run id (positive integer)", v);
  return n;
}

function option(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(name + "="));
  if (i < 0) return undefined;
  const a = args[i];
  const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[i + 1];
  args.splice(i, a.includes("=") ? 1 : 2);
  if (v === undefined) throw new InputError(name, "a value");
  return v;
}

function mustRun(store: ResultsStore, id: number) {
  const run = store.getRun(id);
  if (!run) throw new InputError("<id>", `a recorded run in ${store.path}`, id, { hint: "deno task results list" });
  return run;
}

/** Runs the `results` command; returns the exit code. */
export async function resultsCommand(argv: string[]): Promise<number> {
  const args = [...argv];
  let store: ResultsStore | undefined;
  try {
    const path = option(args, "--results");
    const [cmd, ...rest] = args;
    if (!cmd || cmd === "--help" || cmd === "-h") {
      writeStdout(USAGE() + "\n");
      return cmd ? 0 : 2;
    }
    store = ResultsStore.open(path ? resolve(userCwd(), path) : Deno.env.get("HYPERLAB_RESULTS") ?? DEFAULT_STORE_PATH);
    switch (cmd) {
      case "list": {
        const limit = option(rest, "--limit");
        const playbook = option(rest, "--playbook");
        const status = option(rest, "--status");
        if (status && !["ok", "failed", "interrupted", "running"].includes(status)) {
          throw new InputError("--status", "ok, failed, interrupted or running", status);
        }
        const n = limit === undefined ? 20 : Number(limit);
        if (!Number.isInteger(n) || n <= 0) throw new InputError("--limit", "a positive integer", limit);
        const runs = store.listRuns({ limit: n, playbook, status: status as never });
        if (rest.includes("--json")) writeStdout(JSON.stringify(runs) + "\n");
        else {
          printTable(
            ["id", "playbook", "status", "started", "duration", "params"],
            runs.map((r) => [
              r.id,
              r.playbook + (r.dry_run ? " (dry)" : ""),
              r.status,
              fmtTime(r.started_at),
              dur(r.started_at, r.ended_at),
              JSON.stringify(r.params).slice(0, 50),
            ]),
          );
        }
        return 0;
      }
      case "show": {
        const run = mustRun(store, runId(rest[0]));
        writeStdout(
          `run ${run.id} · ${run.playbook} · ${run.status}${run.dry_run ? " · dry run" : ""}\n` +
            `  started ${fmtTime(run.started_at)} · duration ${dur(run.started_at, run.ended_at)}\n` +
            `  commit ${run.git_commit ?? "unknown"} · host ${run.hostname}\n` +
            `  params ${JSON.stringify(run.params)}\n` +
            (run.error ? `  error ${run.error}\n` : ""),
        );
        const steps = store.steps(run.id);
        printTable(
          ["#", "step", "status", "duration", "error"],
          steps.map((s) => [s.seq, s.name, s.status, dur(s.started_at, s.ended_at), (s.error ?? "").slice(0, 80)]),
        );
        const metrics = store.metrics(run.id);
        if (metrics.length) {
          printTable(
            ["metric", "value", "unit", "tags"],
            metrics.slice(0, 200).map((m) => [m.name, m.value, m.unit, JSON.stringify(m.tags)]),
          );
          if (metrics.length > 200) writeStdout(`(${metrics.length - 200} more metric samples: results export)\n`);
        }
        const arts = store.artifacts(run.id);
        if (arts.length) {
          printTable(["artifact", "bytes", "sha256"], arts.map((a) => [a.name, a.size, a.sha256.slice(0, 16)]));
        }
        const plan = store.planEntries(run.id);
        if (plan.length) printTable(["kind", "target", "action"], plan.map((p) => [p.kind, p.target, p.action]));
        return 0;
      }
      case "export": {
        const run = mustRun(store, runId(rest[0]));
        const out = option(rest, "--out");
        const csv = rest.includes("--csv");
        const json = rest.includes("--json");
        if (csv === json) throw new InputError("export format", "exactly one of --csv or --json");
        const text = csv
          ? metricsCsv(store.metrics(run.id))
          : JSON.stringify(runSummaryJson(store, run.id), null, 2) + "\n";
        if (out) await Deno.writeTextFile(resolve(userCwd(), out), text);
        else writeStdout(text);
        return 0;
      }
      case "compare": {
        if (rest.length < 2) throw new InputError("compare", "at least two run ids", rest.join(" "));
        const ids = rest.filter((a) => !a.startsWith("--")).map((a) => runId(a));
        for (const id of ids) mustRun(store, id);
        const cmp = compareRuns(store, ids);
        if (rest.includes("--json")) writeStdout(JSON.stringify(cmp) + "\n");
        else {
          printTable(
            ["metric", ...ids.map((i) => `run ${i}`), "Δ (last vs first)", "beyond noise"],
            cmp.rows.map((r) => [
              r.metric + (r.unit ? ` (${r.unit})` : ""),
              ...r.cells.map((c) => c ? `${fmtNum(c.mean)}${c.n > 1 ? ` ±${fmtNum(c.ci95)} (n=${c.n})` : ""}` : "—"),
              r.deltaPct === null ? "" : `${r.deltaPct >= 0 ? "+" : ""}${r.deltaPct.toFixed(1)}%`,
              r.significant === null ? "n/a" : r.significant ? "YES" : "no",
            ]),
          );
        }
        return 0;
      }
      case "report":
        store.close();
        return await resultsReportCommand([...rest, ...(path ? ["--results", path] : [])]);
      case "artifact": {
        const run = mustRun(store, runId(rest[0]));
        const name = rest[1];
        const out = option(rest, "--out");
        const art = store.artifacts(run.id).find((a) => a.name === name);
        if (!art) throw new InputError("<name>", `an artifact of run ${run.id}`, name);
        if (!out) throw new InputError("--out", "a file to write the artifact to");
        await Deno.writeFile(resolve(userCwd(), out), store.artifactData(art.id)!);
        writeStdout(`wrote ${art.size} bytes to ${out}\n`);
        return 0;
      }
      default:
        throw new InputError("command", "list, show, export, compare, report or artifact", cmd, {
          hint: USAGE().split("\n")[0],
        });
    }
  } catch (e) {
    writeStderr(`error: ${formatError(e)}\n`);
    return e instanceof InputError || (e instanceof HyperlabError && e.code === "store") ? 2 : 1;
  } finally {
    store?.close();
  }
}

function fmtNum(n: number): string {
  const a = Math.abs(n);
  return a >= 1000 || Number.isInteger(n) ? n.toFixed(0) : a >= 1 ? n.toFixed(3) : n.toPrecision(3);
}

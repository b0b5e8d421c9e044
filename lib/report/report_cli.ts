/**
 * `results report <run> [--out file.html] [--baseline <run>] [--results db]`: writes a run's HTML report (default
 * `run-<id>.html` in the current directory) and prints its path.
 * @module
 */
import { resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { userCwd } from "../cli/resolve.ts";
import { DEFAULT_STORE_PATH, ResultsStore } from "../results/store.ts";
import { writeRunReport } from "./run_report.ts";

/** Usage line of `results report`. */
export const REPORT_USAGE = "report <id> [--out file.html] [--baseline <id>]   self-contained HTML report of a run";

function positiveInt(field: string, v: string | undefined): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n <= 0) throw new InputError(field, "a run id (positive integer)", v);
  return n;
}

/**
 * Runs `results report` with the arguments after `report`. Returns the exit code; throws InputError for bad input.
 * `io.out` receives the line naming the written file.
 */
export function reportCommand(argv: string[], io: { out(text: string): void } = { out: console.log }): number {
  let out: string | undefined;
  let baseline: number | undefined;
  let db: string | undefined;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.startsWith("--") && a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new InputError(name, "a value");
      return v;
    };
    if (name === "--out") out = value();
    else if (name === "--baseline") baseline = positiveInt("--baseline", value());
    else if (name === "--results") db = value();
    else if (name.startsWith("--")) throw new InputError(name, "one of --out, --baseline, --results");
    else pos.push(a);
  }
  if (pos.length !== 1) throw new InputError("<id>", "exactly one run id", pos.join(" ") || undefined);
  const id = positiveInt("<id>", pos[0]);
  using store = ResultsStore.open(db ? resolve(userCwd(), db) : Deno.env.get("HYPERLAB_RESULTS") ?? DEFAULT_STORE_PATH);
  const path = resolve(userCwd(), out ?? `run-${id}.html`);
  const size = writeRunReport(store, id, path, { baseline });
  io.out(`wrote ${path} (${size} bytes)`);
  return 0;
}

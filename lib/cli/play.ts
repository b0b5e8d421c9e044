/**
 * `deno task play`: resolves a playbook, turns flags into typed parameters (prompting on a TTY for missing required
 * ones), runs it with a live display, records it, and exits with a meaningful code.
 * @module
 */
import { resolve } from "node:path";
import { CancelledError, formatError, HyperlabError, InputError, MissingError } from "../core/errors.ts";
import type { Reporter } from "../core/events.ts";
import type { Playbook } from "../core/playbook.ts";
import { runPlaybook } from "../core/runner.ts";
import { zodToInputError } from "../core/zod_errors.ts";
import { DEFAULT_STORE_PATH, ResultsStore } from "../results/store.ts";
import { flagsOf, type FlagSpec, parseFlags } from "./flags.ts";
import { playbookHelp, playHelp } from "./help.ts";
import { promptForMissing } from "./prompt.ts";
import { PlainReporter, reserveStdoutForJson, TtyReporter, writeStderr, writeStdout } from "./reporters.ts";
import { resolvePlaybook, userCwd } from "./resolve.ts";
import { playbookIndex } from "./playbook_index.ts";
import { runSummaryJson } from "./summary.ts";

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, input: 2, missing: 3, interrupted: 130 } as const;

/** Options that apply to every run (not playbook parameters). */
export interface RunFlags {
  list: boolean;
  help: boolean;
  dryRun: boolean;
  json: boolean;
  plain: boolean;
  verbose: boolean;
  results?: string;
  retry?: number;
}

const VALUE_OPTS = new Set(["--results", "--retry"]);
const BOOL_OPTS: Record<string, keyof RunFlags> = {
  "--list": "list",
  "--help": "help",
  "-h": "help",
  "--dry-run": "dryRun",
  "--json": "json",
  "--plain": "plain",
  "--verbose": "verbose",
};

/** Splits argv into run options, the playbook spec and the playbook's own arguments. */
export function splitArgs(argv: string[]): { flags: RunFlags; spec?: string; rest: string[] } {
  const flags: RunFlags = { list: false, help: false, dryRun: false, json: false, plain: false, verbose: false };
  const rest: string[] = [];
  let spec: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [name, inline] = a.includes("=") && a.startsWith("--")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    if (name in BOOL_OPTS && inline === undefined) {
      (flags[BOOL_OPTS[name]] as boolean) = true;
    } else if (VALUE_OPTS.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith("--")) throw new InputError(name, "a value");
      if (name === "--results") flags.results = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) throw new InputError("--retry", "a run id (positive integer)", v);
        flags.retry = n;
      }
    } else if (spec === undefined && !a.startsWith("-")) {
      spec = a;
    } else {
      rest.push(a);
    }
  }
  return { flags, spec, rest };
}

function isInteractive(): boolean {
  try {
    return Deno.stdin.isTerminal() && Deno.stderr.isTerminal() && !Deno.env.get("CI");
  } catch {
    return false;
  }
}

function storePath(flags: RunFlags): string {
  if (flags.results) return resolve(userCwd(), flags.results);
  return Deno.env.get("HYPERLAB_RESULTS") ?? DEFAULT_STORE_PATH;
}

/** Builds raw parameter values from flags (and, for --retry, the earlier run's parameters). */
async function gatherParams(
  pb: Playbook,
  specs: FlagSpec[],
  rest: string[],
  flags: RunFlags,
  store: () => ResultsStore,
): Promise<Record<string, unknown>> {
  const { values, rest: unknown } = parseFlags(specs, rest);
  if (unknown.length) {
    const bad = unknown[0];
    const known = specs.map((s) => s.flag).join(", ") || "(none)";
    throw new InputError(
      bad.startsWith("-") ? bad : "argument",
      bad.startsWith("-") ? `a parameter of ${pb.name}: ${known}` : "no extra positional arguments",
      bad.startsWith("-") ? undefined : bad,
      {
        hint: `deno task play ${pb.name} --help`,
      },
    );
  }
  let base: Record<string, unknown> = {};
  if (flags.retry !== undefined) {
    const prev = store().getRun(flags.retry);
    if (!prev) throw new InputError("--retry", "the id of a recorded run", flags.retry);
    if (prev.playbook !== pb.name) {
      throw new InputError("--retry", `a run of ${pb.name}`, `run ${flags.retry} of ${prev.playbook}`);
    }
    base = { ...prev.params };
    if (specs.some((s) => s.key === "limit")) {
      let failed = (prev.result as { failedNodes?: string[] } | null)?.failedNodes ?? [];
      if (!failed.length) {
        const { retryTargets } = await import("../remote/retry.ts");
        failed = retryTargets(store(), flags.retry);
      }
      if (failed.length) base.limit = failed.join(",");
    }
  }
  const merged = { ...base, ...values };
  const missing = specs.filter((s) => s.required && merged[s.key] === undefined);
  if (missing.length) {
    if (isInteractive() && !flags.json) Object.assign(merged, await promptForMissing(missing));
    else {
      throw new InputError(
        missing.map((m) => m.flag).join(", "),
        `required parameter${missing.length > 1 ? "s" : ""} (${
          missing.map((m) => m.description ?? m.kind).join("; ")
        })`,
        undefined,
        { where: pb.name, hint: "not on a terminal, so nothing is prompted: pass them as flags" },
      );
    }
  }
  return merged;
}

/** Prints the playbook list (from the cached index). */
async function printList(json: boolean): Promise<void> {
  const pbs = await playbookIndex();
  if (json) {
    writeStdout(JSON.stringify(pbs) + "\n");
    return;
  }
  const w = Math.max(...pbs.map((p) => p.name.length), 8) + 2;
  writeStdout(`playbooks (deno task play <name> --help):\n`);
  for (const p of pbs) writeStdout(`  ${p.name.padEnd(w)}${p.description}\n`);
}

/** Runs the `play` command; returns the process exit code. */
export async function playCommand(argv: string[]): Promise<number> {
  let store: ResultsStore | undefined;
  const openStore = (flags: RunFlags) => store ??= ResultsStore.open(storePath(flags));
  try {
    const { flags, spec, rest } = splitArgs(argv);
    if (flags.list) {
      await printList(flags.json);
      return EXIT.ok;
    }
    if (!spec) {
      writeStdout(playHelp() + "\n");
      return flags.help ? EXIT.ok : EXIT.input;
    }
    const { playbook: pb, path } = await resolvePlaybook(spec);
    const specs = flagsOf(pb.params);
    if (flags.help) {
      writeStdout(playbookHelp(pb, path) + "\n");
      return EXIT.ok;
    }
    const raw = await gatherParams(pb, specs, rest, flags, () => openStore(flags));
    const parsed = pb.params.safeParse(raw);
    if (!parsed.success) {
      const err = zodToInputError(parsed.error, pb.name);
      const key = String(parsed.error.issues[0]?.path?.[0] ?? "");
      const flag = specs.find((s) => s.key === key)?.flag;
      throw flag ? new InputError(flag, err.expected, raw[key], { where: pb.name }) : err;
    }
    const s = openStore(flags);
    if (flags.json) reserveStdoutForJson();
    const inventory = await inventoryOf(parsed.data as Record<string, unknown>, specs);
    const interactive = !flags.plain && !flags.json && Deno.stderr.isTerminal();
    const reporter: Reporter & Partial<Disposable> = interactive
      ? new TtyReporter(writeStderr, flags.verbose)
      : new PlainReporter(writeStderr, flags.verbose);
    const abort = new AbortController();
    let sigCount = 0;
    let runId: number | undefined;
    const onSignal = (sig: string) => () => {
      sigCount++;
      if (sigCount === 1) {
        writeStderr(`\n${sig}: stopping (cleanup runs; press again to exit at once)\n`);
        abort.abort(new CancelledError(`${sig} received`));
      } else {
        try {
          if (runId !== undefined) s.markInterrupted(runId, `${sig} received twice: exited before cleanup finished`);
        } finally {
          Deno.exit(EXIT.interrupted);
        }
      }
    };
    const handlers: [Deno.Signal, () => void][] = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]];
    for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
    const tracking: Reporter = {
      event(e) {
        if (e.type === "run-start") runId = e.runId;
        reporter.event(e);
      },
    };
    try {
      const outcome = await runPlaybook(pb, parsed.data as Record<string, unknown>, {
        store: s,
        dryRun: flags.dryRun,
        reporter: tracking,
        signal: abort.signal,
        playbookPath: path,
        parentRun: flags.retry,
        inventory: inventory?.record,
        secrets: inventory?.secrets,
      });
      if (flags.json) writeStdout(JSON.stringify(runSummaryJson(s, outcome.runId)) + "\n");
      else if (flags.dryRun) printPlan(s, outcome.runId);
      if (outcome.status === "ok") return EXIT.ok;
      if (outcome.status === "interrupted") return EXIT.interrupted;
      return outcome.error instanceof MissingError ? EXIT.missing : EXIT.failed;
    } finally {
      for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
      reporter[Symbol.dispose]?.();
    }
  } catch (e) {
    writeStderr(`error: ${formatError(e)}\n`);
    if (e instanceof InputError) return EXIT.input;
    if (e instanceof MissingError) return EXIT.missing;
    if (e instanceof HyperlabError && e.code === "store") return EXIT.input;
    if (e instanceof HyperlabError && e.code === "playbook") return EXIT.input;
    return EXIT.failed;
  } finally {
    store?.close();
  }
}

/**
 * Playbooks that act on nodes take `inventory` (a file or `lab`) and `limit` parameters. The CLI loads the
 * inventory once more here so that the run record holds it (secrets masked) and its secrets are registered before
 * anything is logged; a bad inventory fails before the run starts.
 */
async function inventoryOf(
  params: Record<string, unknown>,
  specs: FlagSpec[],
): Promise<{ record: unknown; secrets: string[] } | undefined> {
  if (!specs.some((s) => s.key === "inventory") || typeof params.inventory !== "string") return undefined;
  const { loadInventory } = await import("../inventory/mod.ts");
  const spec = params.inventory === "lab" ? "lab" : resolve(userCwd(), params.inventory);
  params.inventory = spec; // the playbook resolves the same file, wherever the user started the command
  const inv = await loadInventory(spec, typeof params.limit === "string" ? params.limit : undefined);
  return { record: inv.toRecord(), secrets: inv.secrets() };
}

function printPlan(store: ResultsStore, runId: number): void {
  const plan = store.planEntries(runId);
  writeStdout(`\nPlan of run ${runId} (dry run, nothing was done): ${plan.length} action(s)\n`);
  for (const [i, p] of plan.entries()) {
    writeStdout(`${String(i + 1).padStart(4)}. [${p.kind}] ${p.target}: ${p.action}\n`);
  }
}

/**
 * Parses `schedule add` arguments: scheduler options (--cron, --tz, …), the playbook, and the playbook's own flags
 * (converted with its zod schema), into an AddJobInput. Unknown flags are errors naming the flag.
 * @module
 */
import { resolve } from "node:path";
import { InputError } from "../core/errors.ts";
import { flagsOf, parseFlags } from "../cli/flags.ts";
import { resolvePlaybook, userCwd } from "../cli/resolve.ts";
import type { AddJobInput } from "./add_job.ts";
import { parseCron } from "./cron.ts";

const ADD_VALUE_OPTS: Record<string, keyof AddJobInput | "results"> = {
  "--cron": "cron",
  "--tz": "tz",
  "--name": "name",
  "--inventory": "inventory",
  "--catch-up": "catchUp",
  "--timeout": "timeoutS",
  "--retries": "retries",
  "--backoff": "backoffS",
  "--lock-wait": "lockWaitS",
  "--nodes": "nodes",
  "--notify-cmd": "notifyCmd",
  "--notify-file": "notifyFile",
  "--executor": "executor",
  "--results": "results",
};
const NUMERIC = new Set(["timeoutS", "retries", "backoffS", "lockWaitS"]);

/** Splits `add` arguments into scheduler options, the playbook spec and the playbook's own flags. */
export function splitAddArgs(argv: string[]): { opts: Record<string, string>; spec?: string; rest: string[] } {
  const opts: Record<string, string> = {};
  const rest: string[] = [];
  let spec: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const key = ADD_VALUE_OPTS[name];
    if (key) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new InputError(name, "a value");
      opts[key] = v;
    } else if (spec === undefined && !a.startsWith("-")) spec = a;
    else rest.push(a);
  }
  return { opts, spec, rest };
}

/** Builds the job input from `add` arguments (converting the playbook's flags with its schema). */
export async function addInputFromArgs(argv: string[]): Promise<AddJobInput> {
  const { opts, spec, rest } = splitAddArgs(argv);
  if (!spec) throw new InputError("playbook", "a playbook name or path after `schedule add`");
  if (opts.cron === undefined) throw new InputError("--cron", 'a cron expression, e.g. --cron "0 3 * * *"');
  parseCron(opts.cron, opts.tz ?? "UTC");
  const { playbook } = await resolvePlaybook(spec);
  const { values, rest: unknown } = parseFlags(flagsOf(playbook.params), rest);
  if (unknown.length) {
    throw new InputError(unknown[0], `a parameter of playbook ${playbook.name} or a schedule option`, undefined, {
      hint: `deno task play ${spec} --help lists the parameters`,
    });
  }
  const input: AddJobInput = { playbook: spec, cron: opts.cron, params: values };
  for (const [k, v] of Object.entries(opts)) {
    if (k === "cron" || k === "results") continue;
    if (NUMERIC.has(k)) {
      const n = Number(v);
      const flag = Object.entries(ADD_VALUE_OPTS).find(([, key]) => key === k)![0];
      if (v.trim() === "" || !Number.isFinite(n)) throw new InputError(flag, "a number", v);
      (input as unknown as Record<string, unknown>)[k] = n;
    } else if (k === "nodes") input.nodes = v.split(",").map((s) => s.trim()).filter(Boolean);
    else if (k === "notifyFile") input.notifyFile = resolve(userCwd(), v);
    else (input as unknown as Record<string, unknown>)[k] = v;
  }
  return input;
}

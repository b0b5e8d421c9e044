/** Help texts of `deno task play`. */
import type { Playbook } from "../core/playbook.ts";
import { describeKind, flagsOf, type FlagSpec } from "./flags.ts";

/** Options every playbook run accepts, with their help. */
export const RUN_OPTIONS: [string, string][] = [
  ["--dry-run", "print the plan (commands, writes, ioctls) without side effects; the plan is recorded"],
  ["--json", "print a machine-readable result on stdout (progress goes to stderr)"],
  ["--results <file>", "results store (default .hyperlab/results.db, or $HYPERLAB_RESULTS)"],
  ["--retry <run-id>", "run again with that run's parameters (only its failed nodes, when it reported them)"],
  ["--plain", "plain lines even on a terminal"],
  ["--verbose", "show debug log lines"],
  ["--help, -h", "this help"],
];

function defaultText(f: FlagSpec): string {
  if (f.required) return " (required)";
  if (f.default === undefined) return "";
  return ` (default: ${Array.isArray(f.default) ? f.default.join(",") : JSON.stringify(f.default)})`;
}

/** Help of one playbook: description, parameters with types/defaults/choices, run options. */
export function playbookHelp(pb: Playbook, path?: string): string {
  const flags = flagsOf(pb.params);
  const rows = flags.map((f) => {
    const left = f.kind === "boolean" && !f.array
      ? `${f.flag}, --no-${f.flag.slice(2)}`
      : `${f.flag} <${describeKind(f)}>`;
    return [left, `${f.description ?? ""}${defaultText(f)}`];
  });
  const w = Math.max(20, ...rows.map((r) => r[0].length), ...RUN_OPTIONS.map((r) => r[0].length)) + 2;
  const lines = [
    `${pb.name} — ${pb.description}`,
    path ? `  (${path})` : "",
    "",
    `Usage: deno task play ${pb.name} [parameters] [run options]`,
    "",
    "Parameters:",
    ...(rows.length ? rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`) : ["  (none)"]),
    "",
    "Run options:",
    ...RUN_OPTIONS.map(([l, r]) => `  ${l.padEnd(w)}${r}`),
  ];
  return lines.filter((l, i) => !(l === "" && i === 1)).join("\n");
}

/** Help of `deno task play` itself. */
export function playHelp(): string {
  return [
    "Usage: deno task play <name|path> [--param value ...] [run options]",
    "       deno task play --list",
    "       deno task play <name> --help",
    "",
    "Run options:",
    ...RUN_OPTIONS.map(([l, r]) => `  ${l.padEnd(26)}${r}`),
    "",
    "Exit codes: 0 ok, 1 run failed, 2 bad input, 3 something required is missing, 130 interrupted.",
  ].join("\n");
}

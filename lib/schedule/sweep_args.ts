/**
 * `schedule sweep` arguments: fixed playbook flags plus `--grid <param>=v1,v2,…` (repeatable); the sweep points are
 * the cartesian product of the grids, each merged with the fixed values. Values are converted with the playbook's
 * flag types, so a bad value names its flag.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { Playbook } from "../core/playbook.ts";
import { convertValue, flagsOf, parseFlags } from "../cli/flags.ts";

/** Sweep points from argv (`--grid` entries and fixed playbook flags); throws InputError naming the bad flag. */
export function sweepPointsFromArgs(playbook: Playbook, argv: string[]): Record<string, unknown>[] {
  const specs = flagsOf(playbook.params);
  const grids: [string, unknown[]][] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a !== "--grid" && !a.startsWith("--grid=")) {
      rest.push(a);
      continue;
    }
    const v = a === "--grid" ? argv[++i] : a.slice(7);
    const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(v ?? "");
    if (!m) throw new InputError("--grid", "<param>=<value>,<value>,…", v);
    const spec = specs.find((s) => s.flag === `--${m[1]}` || s.key === m[1]);
    if (!spec) {
      throw new InputError("--grid", `a parameter of playbook ${playbook.name}`, m[1], {
        hint: `parameters: ${specs.map((s) => s.flag.slice(2)).join(", ")}`,
      });
    }
    grids.push([spec.key, m[2].split(",").map((x) => convertValue(spec, x.trim()))]);
  }
  if (!grids.length) throw new InputError("--grid", "at least one --grid <param>=<values> for a sweep");
  const { values: fixed, rest: unknown } = parseFlags(specs, rest);
  const stray = unknown.find((u) => u.startsWith("-"));
  if (stray) throw new InputError(stray, `a parameter of playbook ${playbook.name} or a sweep option`);
  let points: Record<string, unknown>[] = [{ ...fixed }];
  for (const [key, vals] of grids) points = points.flatMap((p) => vals.map((v) => ({ ...p, [key]: v })));
  return points;
}

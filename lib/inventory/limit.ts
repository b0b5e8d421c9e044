/**
 * `--limit` expressions: terms separated by `,` (union). A term is a node name, a group/role/tag name, a glob with
 * `*` and `?`, or an index range `#0-3`. `!term` removes matches, `&term` keeps only nodes also matching.
 * Example: `compute,!n3` or `n*,&gpu`.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { NodeSpec } from "./types.ts";

/** Resolves a term to node names; returns undefined when the term names nothing. */
export type TermResolver = (term: string) => Set<string> | undefined;

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`);
}

/** Matches one term (without `!`/`&`) against nodes and groups. */
function matchTerm(term: string, nodes: readonly NodeSpec[], groups: TermResolver): Set<string> | undefined {
  const range = /^#(\d+)(?:-(\d+))?$/.exec(term);
  if (range) {
    const lo = Number(range[1]);
    const hi = range[2] === undefined ? lo : Number(range[2]);
    if (hi < lo) throw new InputError("--limit", "an index range #lo-hi with lo <= hi", term);
    const hit = nodes.filter((n) => n.index >= lo && n.index <= hi).map((n) => n.name);
    return hit.length ? new Set(hit) : undefined;
  }
  if (/[*?]/.test(term)) {
    const re = globToRegExp(term);
    const hit = nodes.filter((n) => re.test(n.name)).map((n) => n.name);
    return hit.length ? new Set(hit) : undefined;
  }
  if (nodes.some((n) => n.name === term)) return new Set([term]);
  return groups(term);
}

/**
 * Applies a limit expression to nodes (in order) and returns the selected nodes in inventory order.
 * Throws InputError naming `--limit` when a term matches nothing or the result is empty.
 */
export function applyLimit(expr: string, nodes: readonly NodeSpec[], groups: TermResolver): NodeSpec[] {
  const terms = expr.split(",").map((t) => t.trim()).filter((t) => t.length > 0);
  if (terms.length === 0) throw new InputError("--limit", "one or more node, group or pattern names", expr);
  let selected: Set<string> | undefined;
  for (const raw of terms) {
    const op = raw[0] === "!" || raw[0] === "&" ? raw[0] : "";
    const term = op ? raw.slice(1) : raw;
    if (!term) throw new InputError("--limit", `a name after '${op}'`, raw);
    const hit = matchTerm(term, nodes, groups);
    if (!hit) {
      throw new InputError("--limit", "node names, group/role/tag names, globs (n*) or index ranges (#0-3)", term, {
        hint: `known nodes: ${nodes.map((n) => n.name).join(", ")}`,
      });
    }
    if (op === "!") {
      selected ??= new Set(nodes.map((n) => n.name));
      for (const n of hit) selected.delete(n);
    } else if (op === "&") {
      selected ??= new Set(nodes.map((n) => n.name));
      for (const n of [...selected]) if (!hit.has(n)) selected.delete(n);
    } else {
      selected ??= new Set();
      for (const n of hit) selected.add(n);
    }
  }
  const out = nodes.filter((n) => selected!.has(n.name));
  if (out.length === 0) throw new InputError("--limit", "an expression selecting at least one node", expr);
  return out;
}

/**
 * The Inventory: validated nodes in a stable order (origin first), groups, `--limit` selection, and the secret
 * values (IPMI passwords) kept apart from everything that is logged or stored.
 * @module
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { currentRun } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import { zodToInputError } from "../core/zod_errors.ts";
import { applyLimit } from "./limit.ts";
import { InventoryFileSchema, NodeInputSchema, type SecretRef } from "./schema.ts";
import type { JumpHost, NodeSpec } from "./types.ts";
import type { z } from "zod";

type NodeInput = z.infer<typeof NodeInputSchema>;

/** A validated inventory. Iterating yields nodes in order (origin first). */
export class Inventory implements Iterable<NodeSpec> {
  /** Nodes in order; `nodes[0]` is the origin. */
  readonly nodes: readonly NodeSpec[];
  /** Explicit groups (name → node names), after expanding nested groups. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  /** Where the inventory came from (file path or `inline`). */
  readonly source: string;
  readonly #passwords: ReadonlyMap<string, string>;

  constructor(nodes: NodeSpec[], groups: Record<string, string[]>, source: string, passwords: Map<string, string>) {
    this.nodes = Object.freeze(nodes);
    this.groups = Object.freeze(groups);
    this.source = source;
    this.#passwords = passwords;
  }

  [Symbol.iterator](): Iterator<NodeSpec> {
    return this.nodes[Symbol.iterator]();
  }

  /** The first node in order. */
  get origin(): NodeSpec {
    return this.nodes[0];
  }

  /** The node called `name`; throws InputError listing the known nodes otherwise. */
  node(name: string): NodeSpec {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new InputError("node", `one of ${this.nodes.map((x) => x.name).join(", ")}`, name);
    return n;
  }

  /** Node names of a group, role or tag (explicit groups first); undefined when nothing has that name. */
  members(group: string): Set<string> | undefined {
    const explicit = this.groups[group];
    if (explicit) return new Set(explicit);
    const hit = this.nodes.filter((n) => n.roles.includes(group) || n.tags.includes(group)).map((n) => n.name);
    if (group === "all") return new Set(this.nodes.map((n) => n.name));
    return hit.length ? new Set(hit) : undefined;
  }

  /** A new inventory holding only the nodes `expr` selects (see limit.ts for the syntax). */
  limit(expr: string | undefined): Inventory {
    if (expr === undefined || expr.trim() === "") return this;
    const picked = applyLimit(expr, this.nodes, (g) => this.members(g));
    const keep = new Set(picked.map((n) => n.name));
    const groups: Record<string, string[]> = {};
    for (const [g, m] of Object.entries(this.groups)) groups[g] = m.filter((n) => keep.has(n));
    const pw = new Map([...this.#passwords].filter(([n]) => keep.has(n)));
    return new Inventory(picked, groups, this.source, pw);
  }

  /** The IPMI password of a node (resolved from its env var or file at load time). */
  ipmiPassword(node: string): string {
    const pw = this.#passwords.get(node);
    if (pw === undefined) throw new InputError(`node "${node}" ipmi`, "an IPMI endpoint with a password reference");
    return pw;
  }

  /** Every secret value, to pass to runPlaybook's `secrets` so they are masked in logs and records. */
  secrets(): string[] {
    return [...this.#passwords.values()];
  }

  /** A JSON form for the run record: nodes and groups, with secret references but no secret values. */
  toRecord(): { source: string; nodes: NodeSpec[]; groups: Record<string, readonly string[]> } {
    return { source: this.source, nodes: this.nodes.map((n) => ({ ...n })), groups: { ...this.groups } };
  }

  /** Same as toRecord (so JSON.stringify never reaches private fields). */
  toJSON(): unknown {
    return this.toRecord();
  }
}

function readSecret(ref: SecretRef, baseDir: string, field: string, where: string): { value: string; from: string } {
  if (ref.env !== undefined) {
    const v = Deno.env.get(ref.env);
    if (v === undefined || v === "") {
      throw new InputError(`${field}.env`, `environment variable ${ref.env} to be set`, undefined, { where });
    }
    return { value: v, from: `env:${ref.env}` };
  }
  const path = isAbsolute(ref.file!) ? ref.file! : resolve(baseDir, ref.file!);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`${field}.file`, "a readable file holding the password", path, {
      where,
      hint: (e as Error).message,
    });
  }
  const value = text.split(/\r?\n/)[0];
  if (!value) throw new InputError(`${field}.file`, "a file whose first line is the password", path, { where });
  return { value, from: `file:${path}` };
}

/**
 * Validates raw inventory data (parsed YAML or a TS module's default export) and builds an Inventory.
 * Relative key and secret-file paths resolve against `baseDir`. Errors name the node and the field.
 */
export function buildInventory(raw: unknown, source: string, baseDir: string): Inventory {
  const where = `inventory ${source}`;
  const parsed = InventoryFileSchema.safeParse(raw);
  if (!parsed.success) throw zodToInputError(parsed.error, where);
  const file = parsed.data;
  const d = file.defaults;
  const abs = (p: string | undefined) => p === undefined ? undefined : isAbsolute(p) ? p : resolve(baseDir, p);

  const inputs: NodeInput[] = [];
  const seen = new Set<string>();
  file.nodes.forEach((rawNode, i) => {
    const label = typeof (rawNode as { name?: unknown })?.name === "string"
      ? `node "${(rawNode as { name: string }).name}"`
      : `nodes[${i}]`;
    const r = NodeInputSchema.safeParse(rawNode);
    if (!r.success) throw zodToInputError(r.error, where, `${label} `);
    if (seen.has(r.data.name)) {
      throw new InputError(`${label} name`, "a name no other node uses", r.data.name, { where });
    }
    seen.add(r.data.name);
    inputs.push(r.data);
  });

  // Order: explicit index first (ascending), then file order; a node with role "origin" goes first.
  const indexes = new Map<number, string>();
  for (const n of inputs) {
    if (n.index === undefined) continue;
    const other = indexes.get(n.index);
    if (other) {
      throw new InputError(`node "${n.name}" index`, `an index not used by node "${other}"`, n.index, { where });
    }
    indexes.set(n.index, n.name);
  }
  const origins = inputs.filter((n) => n.roles.includes("origin"));
  if (origins.length > 1) {
    throw new InputError(`node "${origins[1].name}" roles`, `one origin (node "${origins[0].name}" is the origin)`, [
      "origin",
    ], { where });
  }
  const ordered = inputs.map((n, pos) => ({ n, pos })).sort((a, b) => {
    const ao = a.n.roles.includes("origin") ? 0 : 1, bo = b.n.roles.includes("origin") ? 0 : 1;
    if (ao !== bo) return ao - bo;
    const ai = a.n.index ?? Number.MAX_SAFE_INTEGER, bi = b.n.index ?? Number.MAX_SAFE_INTEGER;
    return ai !== bi ? ai - bi : a.pos - b.pos;
  }).map((x) => x.n);

  const byName = new Map(ordered.map((n) => [n.name, n]));
  const defaultUser = d.user ?? Deno.env.get("USER") ?? "root";
  const resolveJump = (n: NodeInput, chain: string[]): JumpHost | undefined => {
    if (n.jump === undefined) return undefined;
    if (typeof n.jump === "string") {
      const j = byName.get(n.jump);
      if (!j) {
        throw new InputError(
          `node "${n.name}" jump`,
          `the name of another node (${[...byName.keys()].join(", ")})`,
          n.jump,
          {
            where,
          },
        );
      }
      if (chain.includes(j.name)) {
        throw new InputError(`node "${n.name}" jump`, "a jump chain without cycles", [...chain, j.name].join(" -> "), {
          where,
        });
      }
      return {
        name: j.name,
        host: j.host,
        port: j.port ?? d.port,
        user: j.user ?? defaultUser,
        key: abs(j.key ?? d.key),
        jump: resolveJump(j, [...chain, j.name]),
      };
    }
    return {
      name: `${n.jump.host}:${n.jump.port}`,
      host: n.jump.host,
      port: n.jump.port,
      user: n.jump.user ?? n.user ?? defaultUser,
      key: abs(n.jump.key ?? n.key ?? d.key),
    };
  };

  const passwords = new Map<string, string>();
  const nodes: NodeSpec[] = ordered.map((n, index) => {
    const spec: NodeSpec = {
      name: n.name,
      host: n.host,
      port: n.port ?? d.port,
      user: n.user ?? defaultUser,
      key: abs(n.key ?? d.key),
      index,
      roles: n.roles,
      tags: n.tags,
      vars: { ...d.vars, ...n.vars },
      local: n.local,
      knownHosts: abs(n.knownHosts ?? d.knownHosts),
    };
    const jump = resolveJump(n, [n.name]);
    if (jump) spec.jump = jump;
    if (n.ipmi) {
      const s = readSecret(n.ipmi.password, baseDir, `node "${n.name}" ipmi.password`, where);
      passwords.set(n.name, s.value);
      spec.ipmi = {
        host: n.ipmi.host,
        port: n.ipmi.port,
        user: n.ipmi.user,
        interface: n.ipmi.interface,
        cipherSuite: n.ipmi.cipherSuite,
        passwordFrom: s.from,
      };
    }
    return spec;
  });

  const groups: Record<string, string[]> = {};
  const expand = (g: string, stack: string[]): string[] => {
    if (stack.includes(g)) {
      throw new InputError(`groups.${stack[0]}`, "groups without cycles", [...stack, g].join(" -> "), { where });
    }
    const out: string[] = [];
    for (const m of file.groups[g]) {
      if (byName.has(m)) out.push(m);
      else if (file.groups[m]) out.push(...expand(m, [...stack, g]));
      else {
        throw new InputError(`groups.${stack[0] ?? g}`, `node or group names (${[...byName.keys()].join(", ")})`, m, {
          where,
        });
      }
    }
    return out;
  };
  for (const g of Object.keys(file.groups)) {
    if (byName.has(g)) throw new InputError(`groups.${g}`, "a group name that is not also a node name", g, { where });
    const members = new Set(expand(g, []));
    groups[g] = nodes.filter((n) => members.has(n.name)).map((n) => n.name);
  }
  // Loaded inside a run (a playbook's own loadInventory): its secrets are masked in that run's records at once.
  const run = currentRun();
  for (const pw of passwords.values()) run?.secret(pw);
  return new Inventory(nodes, groups, source, passwords);
}

/**
 * Derives CLI flags from a playbook's zod parameter schema: names (kebab-case), types, defaults, enum choices and
 * help text, and converts argv values into typed values with errors that name the flag.
 * @module
 */
import type { z } from "zod";
import { InputError } from "../core/errors.ts";
import type { ParamsSchema } from "../core/playbook.ts";

/** Scalar kinds a flag can take. */
export type FlagKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

/** One flag derived from one schema field. */
export interface FlagSpec {
  /** Field name in the schema (camelCase). */
  key: string;
  /** Flag as typed: `--kebab-case`. */
  flag: string;
  kind: FlagKind;
  /** True when the field is an array (flag may repeat or take a comma list). */
  array: boolean;
  required: boolean;
  default?: unknown;
  choices?: string[];
  description?: string;
}

/** The parts of a zod v4 schema definition that flags are derived from. */
type AnyDef = {
  type: string;
  innerType?: unknown;
  defaultValue?: unknown;
  entries?: Record<string, unknown>;
  element?: unknown;
  checks?: unknown[];
  in?: unknown;
};

function defOf(s: unknown): AnyDef {
  return (s as { def: AnyDef }).def;
}

/** camelCase → kebab-case. */
export function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/_/g, "-").toLowerCase();
}

function scalarKind(s: unknown): { kind: FlagKind; choices?: string[] } {
  const d = defOf(s);
  switch (d.type) {
    case "string":
      return { kind: "string" };
    case "number": {
      const int = (d.checks as { _zod?: { def?: { format?: string } } }[] ?? []).some((c) =>
        /int/.test(c?._zod?.def?.format ?? "")
      );
      return { kind: int ? "integer" : "number" };
    }
    case "int":
      return { kind: "integer" };
    case "boolean":
      return { kind: "boolean" };
    case "enum":
      return { kind: "enum", choices: Object.values(d.entries ?? {}).map(String) };
    case "literal":
      return { kind: "enum", choices: ((d as unknown as { values: unknown[] }).values ?? []).map(String) };
    case "pipe":
      return scalarKind(d.in);
    default:
      return { kind: "json" };
  }
}

/** The flags of a schema, in field order. */
export function flagsOf(schema: ParamsSchema): FlagSpec[] {
  const out: FlagSpec[] = [];
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    let s: unknown = field;
    let required = true;
    let dflt: unknown = undefined;
    let hasDefault = false;
    for (let i = 0; i < 8; i++) {
      const d = defOf(s);
      if (d.type === "default" || d.type === "prefault") {
        required = false;
        hasDefault = true;
        dflt = typeof d.defaultValue === "function" ? (d.defaultValue as () => unknown)() : d.defaultValue;
        s = d.innerType;
      } else if (d.type === "optional" || d.type === "nullable") {
        required = false;
        s = d.innerType;
      } else break;
    }
    const array = defOf(s).type === "array";
    const { kind, choices } = scalarKind(array ? defOf(s).element : s);
    out.push({
      key,
      flag: `--${kebab(key)}`,
      kind,
      array,
      required,
      default: hasDefault ? dflt : undefined,
      choices,
      description: (field as { description?: string }).description ??
        (s as { description?: string }).description,
    });
  }
  return out;
}

/** Converts one textual value to the flag's type; throws InputError naming the flag. */
export function convertValue(spec: FlagSpec, text: string): unknown {
  switch (spec.kind) {
    case "string":
      return text;
    case "number": {
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n)) throw new InputError(spec.flag, "a number", text);
      return n;
    }
    case "integer": {
      const n = Number(text);
      if (text.trim() === "" || !Number.isInteger(n)) throw new InputError(spec.flag, "an integer", text);
      return n;
    }
    case "boolean": {
      const t = text.toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return true;
      if (["false", "0", "no", "off"].includes(t)) return false;
      throw new InputError(spec.flag, "true or false", text);
    }
    case "enum":
      if (!spec.choices!.includes(text)) throw new InputError(spec.flag, `one of ${spec.choices!.join(", ")}`, text);
      return text;
    case "json":
      try {
        return JSON.parse(text);
      } catch {
        throw new InputError(spec.flag, "a JSON value", text);
      }
  }
}

/** Result of parsing playbook flags. */
export interface ParsedFlags {
  values: Record<string, unknown>;
  /** Arguments that are not playbook flags (left for the caller). */
  rest: string[];
}

/**
 * Parses `--flag value`, `--flag=value`, boolean `--flag` / `--no-flag`, repeated or comma-separated array flags.
 * Unknown `--x` flags are left in `rest` for the caller to report.
 */
export function parseFlags(specs: FlagSpec[], argv: string[]): ParsedFlags {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const values: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(name);
    let inline: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (!spec && name.startsWith("--no-")) {
      const pos = byFlag.get("--" + name.slice(5));
      if (pos?.kind === "boolean" && !pos.array && inline === undefined) {
        values[pos.key] = false;
        continue;
      }
    }
    if (!spec) {
      rest.push(arg);
      continue;
    }
    if (spec.kind === "boolean" && !spec.array && inline === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && /^(true|false)$/i.test(next)) inline = argv[++i];
      else {
        values[spec.key] = true;
        continue;
      }
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length || (argv[i + 1].startsWith("--") && spec.kind !== "number")) {
        throw new InputError(spec.flag, `a value (${describeKind(spec)})`, undefined, {
          hint: `e.g. ${spec.flag} <value>`,
        });
      }
      inline = argv[++i];
    }
    if (spec.array) {
      const parts = spec.kind === "json" ? [inline] : inline.split(",").filter((p) => p !== "");
      const prev = (values[spec.key] as unknown[] | undefined) ?? [];
      values[spec.key] = [...prev, ...parts.map((p) => convertValue(spec!, p.trim()))];
    } else {
      values[spec.key] = convertValue(spec, inline);
    }
  }
  return { values, rest };
}

/** Short human description of a flag's type. */
export function describeKind(spec: FlagSpec): string {
  const base = spec.kind === "enum" ? spec.choices!.join("|") : spec.kind;
  return spec.array ? `${base}[, ...]` : base;
}

/**
 * The playbook model: a playbook is a module exporting `definePlaybook({ name, description, params, run })`.
 * @module
 */
import type { z } from "zod";
import type { RunContext } from "./context.ts";

/** Marks objects created by definePlaybook, so a module that is not a playbook is recognised. */
export const PLAYBOOK_BRAND: unique symbol = Symbol.for("hyperlab.playbook");

/** Any zod object schema usable as playbook parameters. */
// deno-lint-ignore no-explicit-any
export type ParamsSchema = z.ZodObject<any>;

/** What a playbook author writes. */
export interface PlaybookDefinition<S extends ParamsSchema, R = unknown> {
  /** Short name, e.g. `quickstart` or `nephele/clone`. */
  name: string;
  /** One or two sentences for `--list` and `--help`. */
  description: string;
  /** Parameters as a zod object: types, defaults, enums and `.describe()` texts become CLI flags. */
  params: S;
  /** Node names the playbook uses (for the scheduler's node locks), when known statically. */
  nodes?: (params: z.infer<S>) => string[];
  /** The experiment. Whatever it returns is stored as the run's result. */
  run: (ctx: RunContext<z.infer<S>>) => Promise<R> | R;
}

/** A defined playbook (the branded definition). */
export interface Playbook<S extends ParamsSchema = ParamsSchema, R = unknown> extends PlaybookDefinition<S, R> {
  readonly [PLAYBOOK_BRAND]: true;
}

/** Defines a playbook; export the result as the module's default export. */
export function definePlaybook<S extends ParamsSchema, R = unknown>(def: PlaybookDefinition<S, R>): Playbook<S, R> {
  if (!def.name || !/^[a-z0-9][a-z0-9/_-]*$/.test(def.name)) {
    throw new TypeError(`definePlaybook: name must be lowercase words with - _ /, got ${JSON.stringify(def.name)}`);
  }
  return Object.freeze({ ...def, [PLAYBOOK_BRAND]: true as const });
}

/** True when `v` was made by definePlaybook. */
export function isPlaybook(v: unknown): v is Playbook {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[PLAYBOOK_BRAND] === true;
}

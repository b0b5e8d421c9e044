import type { z } from "zod";
import { InputError } from "./errors.ts";

/** Turns a zod error into an InputError naming the first bad field (with its path) and what was expected. */
export function zodToInputError(err: z.ZodError, where: string, fieldPrefix = ""): InputError {
  const issues = err.issues;
  const first = issues[0];
  const path = first?.path?.length
    ? first.path.map((p) => typeof p === "number" ? `[${p}]` : `.${String(p)}`).join("")
      .replace(/^\./, "")
    : "(root)";
  const more = issues.length > 1
    ? `; also ${issues.slice(1, 4).map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ")}`
    : "";
  return new InputError(`${fieldPrefix}${path}`, `${first?.message ?? "valid input"}${more}`, undefined, { where });
}

/** Parses `value` with `schema`, throwing an InputError that names the field on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw zodToInputError(r.error, where);
  return r.data;
}

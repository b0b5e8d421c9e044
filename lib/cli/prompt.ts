/** Interactive prompts for missing required parameters (only ever used on a TTY). */
import { confirm, input, select } from "prompts";
import { InputError } from "../core/errors.ts";
import { convertValue, describeKind, type FlagSpec } from "./flags.ts";

/** Asks for each missing parameter with a prompt suited to its type. */
export async function promptForMissing(specs: FlagSpec[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const message = `${s.flag}${s.description ? ` (${s.description})` : ""}`;
    if (s.kind === "enum" && !s.array) {
      out[s.key] = await select({ message, choices: s.choices!.map((c) => ({ name: c, value: c })) });
    } else if (s.kind === "boolean" && !s.array) {
      out[s.key] = await confirm({ message });
    } else {
      const text = await input({
        message: `${message} <${describeKind(s)}>`,
        validate: (v) => {
          try {
            for (const part of s.array ? v.split(",") : [v]) convertValue(s, part.trim());
            return true;
          } catch (e) {
            return e instanceof InputError ? e.message : String(e);
          }
        },
      });
      out[s.key] = s.array ? text.split(",").map((p) => convertValue(s, p.trim())) : convertValue(s, text);
    }
  }
  return out;
}

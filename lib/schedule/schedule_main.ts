/**
 * Entry of `deno task schedule …` (see schedule_cli.ts for the commands).
 * @module
 */
import { formatError, InputError } from "../core/errors.ts";
import { scheduleCommand } from "./schedule_cli.ts";

try {
  Deno.exit(await scheduleCommand(Deno.args, { out: (t) => console.log(t) }));
} catch (e) {
  console.error(`schedule: ${formatError(e)}`);
  Deno.exit(e instanceof InputError ? 2 : 1);
}

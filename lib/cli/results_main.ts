/** Entry point of `deno task results`. */
import { resultsCommand } from "./results.ts";

Deno.exit(await resultsCommand(Deno.args));

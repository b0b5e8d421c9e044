/** Entry point of `deno task play`. */
import { playCommand } from "./play.ts";

Deno.exit(await playCommand(Deno.args));

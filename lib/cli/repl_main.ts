/**
 * Entry point of `deno task repl [--results <file>] [--inventory <file|lab>] [--limit <expr>]`: opens a Deno REPL
 * with the public API preloaded as `hl`, the results store as `results` and, when given, the inventory.
 */
import { resolve } from "node:path";
import { formatError, InputError } from "../core/errors.ts";
import { userCwd } from "./resolve.ts";

function parse(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(results|inventory|limit)(?:=(.*))?$/.exec(a);
    if (!m) throw new InputError(a, "one of --results <file>, --inventory <file|lab>, --limit <expr>");
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new InputError(`--${m[1]}`, "a value");
    out[m[1]] = v;
  }
  return out;
}

/**
 * The code the REPL evaluates first (the REPL resolves relative imports against "/", so the API is imported by
 * absolute URL): top-level bindings become globals.
 */
export function replPrelude(modUrl: string): string {
  return `import * as hl from ${JSON.stringify(modUrl)};
const results = hl.ResultsStore.open(Deno.env.get("HYPERLAB_RESULTS") ?? hl.DEFAULT_STORE_PATH);
const inventorySpec = Deno.env.get("HYPERLAB_INVENTORY");
if (inventorySpec && typeof hl.loadInventory !== "function") throw new Error("this hyperlab has no inventory support");
const inventory = inventorySpec ? await hl.loadInventory(inventorySpec, Deno.env.get("HYPERLAB_LIMIT")) : undefined;
console.log("hyperlab REPL: hl = public API (" + Object.keys(hl).length + " exports), results = " + results.path +
  (inventory ? ", inventory = " + inventorySpec : ""));
console.log("try: results.listRuns({ limit: 5 }) · hl.kvmFacts() · await hl.runPlaybook(pb, {}, { store: results })");
`;
}

if (import.meta.main) {
  try {
    const opts = parse(Deno.args);
    const env: Record<string, string> = {};
    if (opts.results) env.HYPERLAB_RESULTS = resolve(userCwd(), opts.results);
    if (opts.inventory) {
      env.HYPERLAB_INVENTORY = opts.inventory === "lab" ? "lab" : resolve(userCwd(), opts.inventory);
    }
    if (opts.limit) env.HYPERLAB_LIMIT = opts.limit;
    const init = await Deno.makeTempFile({ prefix: "hyperlab-repl-", suffix: ".ts" });
    await Deno.writeTextFile(init, replPrelude(new URL("../../mod.ts", import.meta.url).href));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["repl", "-A", `--eval-file=${init}`],
      env,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const code = (await child.status).code;
    await Deno.remove(init).catch(() => {});
    Deno.exit(code);
  } catch (e) {
    console.error(`error: ${formatError(e)}`);
    Deno.exit(2);
  }
}

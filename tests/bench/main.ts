/** `deno task bench` lists benchmarks; `deno task bench <name> [args]` runs one. Benchmarks are tests/bench/*.bench.ts. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bench } from "./_report.ts";

const dir = fileURLToPath(new URL(".", import.meta.url));

async function loadAll(): Promise<Map<string, Bench>> {
  const out = new Map<string, Bench>();
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isFile || !e.name.endsWith(".bench.ts")) continue;
    const mod = await import(join(dir, e.name));
    const b = mod.default as Bench;
    if (b?.name && typeof b.run === "function") out.set(b.name, b);
  }
  return out;
}

const [name, ...rest] = Deno.args;
const all = await loadAll();
if (!name || name === "--list") {
  console.log("benchmarks (deno task bench <name>):");
  for (const b of all.values()) console.log(`  ${b.name.padEnd(16)} ${b.description}`);
} else {
  const b = all.get(name);
  if (!b) {
    console.error(`unknown benchmark "${name}"; expected one of: ${[...all.keys()].join(", ")}`);
    Deno.exit(2);
  }
  await b.run(rest);
}

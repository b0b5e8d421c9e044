/**
 * Loading an inventory from a YAML file, a TypeScript module (default export), or the word `lab` (the local lab's
 * generated inventory).
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import YAML from "yaml";
import { InputError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { buildInventory, type Inventory } from "./inventory.ts";

/** Where `deno task lab up` writes its inventory; `--inventory lab` reads it. */
export const LAB_INVENTORY_PATH: string = join(PROJECT_ROOT, ".hyperlab", "lab", "inventory.yaml");

/** Parses YAML inventory text. `source` names it in errors. */
export function parseInventoryYaml(text: string, source = "inline", baseDir = Deno.cwd()): Inventory {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (e) {
    throw new InputError("(file)", "valid YAML", undefined, {
      where: `inventory ${source}`,
      hint: (e as Error).message,
    });
  }
  return buildInventory(raw, source, baseDir);
}

/**
 * Loads an inventory and applies a `--limit` expression.
 * `spec` is a path to a `.yaml`/`.yml`/`.json` file, a `.ts` module whose default export is the inventory data,
 * or `lab` for the local lab (`deno task lab up`).
 */
export async function loadInventory(spec: string, limit?: string): Promise<Inventory> {
  let path: string;
  if (spec === "lab") {
    path = LAB_INVENTORY_PATH;
    if (!existsSync(path)) {
      throw new InputError("--inventory", "a lab that is up", "lab", {
        hint: "run `deno task lab up --nodes 3` first",
      });
    }
  } else {
    path = resolve(spec);
    if (!existsSync(path)) {
      throw new InputError("--inventory", "an inventory file (.yaml, .json or .ts) or `lab`", spec);
    }
  }
  const ext = extname(path).toLowerCase();
  let inv: Inventory;
  if (ext === ".ts" || ext === ".js" || ext === ".mts") {
    const mod = await import(pathToFileURL(path).href);
    if (mod.default === undefined) {
      throw new InputError("--inventory", "a module whose default export is the inventory", spec);
    }
    inv = buildInventory(mod.default, path, dirname(path));
  } else if (ext === ".yaml" || ext === ".yml" || ext === ".json") {
    inv = parseInventoryYaml(readFileSync(path, "utf8"), path, dirname(path));
  } else {
    throw new InputError("--inventory", "a file ending in .yaml, .yml, .json or .ts, or `lab`", spec);
  }
  return inv.limit(limit);
}

/** Typed helper for TypeScript inventory modules: `export default defineInventory({...})`. */
export function defineInventory<T extends { nodes: unknown[] }>(data: T): T {
  return data;
}

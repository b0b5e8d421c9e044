/**
 * Finds playbooks: by name (`quickstart`, `hypersio/explore` → playbooks/<name>.ts or playbooks/<name>/mod.ts) or
 * by path to any module whose default export is a playbook.
 * @module
 */
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { HyperlabError, InputError } from "../core/errors.ts";
import { isPlaybook, type Playbook } from "../core/playbook.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";

/** Folder of the bundled playbooks. */
export const PLAYBOOKS_DIR: string = join(PROJECT_ROOT, "playbooks");

/** A playbook together with where it came from. */
export interface ResolvedPlaybook {
  playbook: Playbook;
  path: string;
}

/** The user's working directory (deno task runs in the project root; INIT_CWD keeps where the user was). */
export function userCwd(): string {
  return Deno.env.get("INIT_CWD") ?? Deno.cwd();
}

function candidates(spec: string): string[] {
  const out: string[] = [];
  const looksLikePath = spec.includes(".ts") || spec.startsWith(".") || spec.startsWith("/");
  if (looksLikePath) out.push(resolve(userCwd(), spec));
  if (!looksLikePath || !spec.startsWith("/")) {
    out.push(join(PLAYBOOKS_DIR, `${spec}.ts`), join(PLAYBOOKS_DIR, spec, "mod.ts"));
  }
  return out;
}

/** Imports a module and returns its playbook, or throws naming what was found instead. */
export async function importPlaybook(path: string): Promise<Playbook> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new HyperlabError("playbook", `cannot load playbook module ${path}: ${(e as Error).message}`);
  }
  const pb = mod.default;
  if (!isPlaybook(pb)) {
    const found = pb === undefined ? "no default export" : `a default export of type ${typeof pb}`;
    throw new InputError("playbook", "a module whose default export is definePlaybook({...})", undefined, {
      where: path,
      hint: `found ${found}`,
    });
  }
  return pb;
}

/** Resolves a playbook name or path. Throws InputError listing close names when unknown. */
export async function resolvePlaybook(spec: string): Promise<ResolvedPlaybook> {
  if (!spec) throw new InputError("playbook", "a playbook name or path");
  for (const path of candidates(spec)) {
    if (existsSync(path) && statSync(path).isFile()) return { playbook: await importPlaybook(path), path };
  }
  const names = listPlaybookFiles().map((f) => f.name);
  const close = names.filter((n) => n.includes(spec) || spec.includes(n.split("/").pop()!)).slice(0, 5);
  throw new InputError("playbook", `a known playbook name or a path to a module`, spec, {
    hint: close.length
      ? `did you mean: ${close.join(", ")}? (deno task play --list)`
      : "deno task play --list shows the playbooks",
  });
}

/** A playbook file found under playbooks/. */
export interface PlaybookFile {
  name: string;
  path: string;
}

/** Lists candidate playbook files under playbooks/ (files starting with `_` and tests are ignored). */
export function listPlaybookFiles(dir = PLAYBOOKS_DIR): PlaybookFile[] {
  const out: PlaybookFile[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.name.startsWith("_") || e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory) walk(p);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        const rel = relative(dir, p).replace(/\.ts$/, "").replace(/\/mod$/, "");
        out.push({ name: rel, path: p });
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Imports every playbook under playbooks/ (modules that are not playbooks are skipped). */
export async function listPlaybooks(dir = PLAYBOOKS_DIR): Promise<ResolvedPlaybook[]> {
  const files = listPlaybookFiles(dir);
  const loaded = await Promise.all(files.map(async (f) => {
    try {
      const mod = await import(pathToFileURL(f.path).href);
      return isPlaybook(mod.default) ? { playbook: mod.default as Playbook, path: f.path } : null;
    } catch {
      return null;
    }
  }));
  return loaded.filter((x): x is ResolvedPlaybook => x !== null);
}

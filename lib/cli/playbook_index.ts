/**
 * A cached index of the bundled playbooks (name, description, path) for `play --list`, so listing does not import
 * every playbook (and with them most of lib/). The cache is keyed by each playbook file's size and mtime and is
 * rebuilt by importing the playbooks whenever one changed, appeared or disappeared.
 * @module
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { listPlaybookFiles, listPlaybooks } from "./resolve.ts";

/** One listed playbook. */
export interface IndexEntry {
  name: string;
  description: string;
  path: string;
}

interface IndexFile {
  version: 1;
  stamps: Record<string, string>;
  entries: IndexEntry[];
}

/** Where the index is cached. */
export const INDEX_PATH: string = join(PROJECT_ROOT, ".hyperlab", "cache", "playbook-index.json");

function stamps(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listPlaybookFiles()) {
    const st = Deno.statSync(f.path);
    out[f.path] = `${st.size}:${st.mtime?.getTime() ?? 0}`;
  }
  return out;
}

function sameStamps(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The playbook index, from the cache when every playbook file is unchanged, else rebuilt (and cached). */
export async function playbookIndex(indexPath = INDEX_PATH): Promise<IndexEntry[]> {
  const now = stamps();
  try {
    const cached = JSON.parse(Deno.readTextFileSync(indexPath)) as IndexFile;
    if (cached.version === 1 && sameStamps(cached.stamps, now)) return cached.entries;
  } catch { /* no cache yet, or unreadable: rebuild */ }
  const entries = (await listPlaybooks()).map((p) => ({
    name: p.playbook.name,
    description: p.playbook.description,
    path: p.path,
  }));
  try {
    Deno.mkdirSync(join(indexPath, ".."), { recursive: true });
    const tmp = `${indexPath}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify({ version: 1, stamps: now, entries } satisfies IndexFile));
    Deno.renameSync(tmp, indexPath);
  } catch { /* read-only checkout: list without caching */ }
  return entries;
}

/**
 * The project source for dom0: one content-hashed `.tgz` in the build cache (lib/, ffi/build, playbooks/, the xen,
 * xenstore and xenlab integration tests, deno.json, deno.lock), unpacked once per boot into dom0's tmpfs. Reading one archive
 * over 9p takes a second; reading the ~500 source files one by one took a minute under TCG.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { HyperlabError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { buildAtomically, cacheDir } from "./image_cache.ts";

/** What goes to dom0 (relative to the project root). */
export const DOM0_SOURCE_PATHS: readonly string[] = [
  "lib",
  "ffi/build",
  "playbooks",
  "tests/integration/xenlab",
  // The xen and xenstore tests whose real-Xen halves run in dom0 (XenHost.denoTest).
  "tests/_helpers.ts",
  "tests/integration/xenstore",
  "tests/integration/xen",
  "deno.json",
  "deno.lock",
];

/** A source snapshot in the cache. */
export interface SourceArchive {
  /** Content hash of the files (16 hex digits). */
  hash: string;
  /** Host path of the archive. */
  path: string;
}

function walk(path: string, out: string[]): void {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch {
    return;
  }
  if (st.isFile) out.push(path);
  else if (st.isDirectory) { for (const e of Deno.readDirSync(path)) walk(join(path, e.name), out); }
}

/** Packs the source (or finds the same snapshot in the cache). */
export async function sourceArchive(): Promise<SourceArchive> {
  const files: string[] = [];
  for (const p of DOM0_SOURCE_PATHS) walk(join(PROJECT_ROOT, p), files);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) {
    h.update(relative(PROJECT_ROOT, f) + "\0");
    h.update(Deno.readFileSync(f));
    h.update("\0");
  }
  const hash = h.digest("hex").slice(0, 16);
  const path = join(await cacheDir("xenlab-src"), `${hash}.tgz`);
  await buildAtomically(path, async (tmp) => {
    const list = files.map((f) => relative(PROJECT_ROOT, f)).join("\n") + "\n";
    const child = new Deno.Command("tar", {
      args: ["-czf", tmp, "-C", PROJECT_ROOT, "-T", "-"],
      stdin: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(list));
    await w.close();
    const out = await child.output();
    if (!out.success) throw new HyperlabError("xen-host", `tar failed: ${new TextDecoder().decode(out.stderr)}`);
  });
  pruneOld(dirname(path), KEEP_ARCHIVES);
  return { hash, path };
}

/** Snapshots kept in the cache (each edit of the source makes a new one). */
const KEEP_ARCHIVES = 6;

function pruneOld(dir: string, keep: number): void {
  const all = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".tgz")).map((e) => {
    const p = join(dir, e.name);
    return { p, t: Deno.statSync(p).mtime?.getTime() ?? 0 };
  }).sort((a, b) => b.t - a.t);
  for (const old of all.slice(keep)) {
    try {
      Deno.removeSync(old.p);
    } catch { /* a concurrent pruner won */ }
  }
}

/**
 * The build cache of lab images and kernels: `.hyperlab/cache/` under the project root (or `$HYPERLAB_CACHE`),
 * content-addressed so a build is redone only when its inputs change.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "../core/provenance.ts";

/** Root of the build cache. */
export function cacheRoot(): string {
  return Deno.env.get("HYPERLAB_CACHE") ?? join(PROJECT_ROOT, ".hyperlab", "cache");
}

/** A directory inside the cache (created). */
export async function cacheDir(...parts: string[]): Promise<string> {
  const dir = join(cacheRoot(), ...parts);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Hex sha256 of strings and byte arrays, fed in order with separators. */
export function contentHash(parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(typeof p === "string" ? new TextEncoder().encode(p) : p);
    h.update("\0");
  }
  return h.digest("hex");
}

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Produces `finalPath` atomically: `build(tmpPath)` writes a temporary sibling which is then renamed into place,
 * so a crash or a concurrent builder never leaves a half-written entry. Returns false when it already existed.
 */
export async function buildAtomically(finalPath: string, build: (tmpPath: string) => Promise<void>): Promise<boolean> {
  if (await exists(finalPath)) return false;
  const tmp = `${finalPath}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await build(tmp);
    if (await exists(finalPath)) return false; // a concurrent builder won; ours is dropped below
    await rename(tmp, finalPath);
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

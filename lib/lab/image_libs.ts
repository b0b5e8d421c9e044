/**
 * Shared libraries a program needs, as `ldd` resolves them on this host (including the dynamic loader).
 * Libraries that are only dlopen'ed (e.g. libgcc_s for pthread_cancel) are not listed by ldd: pass them explicitly.
 * @module
 */
import { HyperlabError } from "../core/errors.ts";
import { exec } from "./image_exec.ts";

/** Absolute host paths of the shared libraries `program` loads; empty for a static program. */
export async function sharedLibraries(program: string): Promise<string[]> {
  const r = await exec("ldd", [program], { pkg: "libc-bin" });
  const text = r.stdout + r.stderr;
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (r.code !== 0) throw new HyperlabError("ldd", `ldd ${program} failed: ${text.trim()}`);
  const libs: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (/=>\s*not found/.test(line)) {
      throw new HyperlabError("ldd", `${program} needs ${line.trim().split(" ")[0]}, which is not installed`);
    }
    const p = arrow?.[1] ?? bare?.[1];
    if (p) libs.push(p);
  }
  return libs;
}

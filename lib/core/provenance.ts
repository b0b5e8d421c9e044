/** Provenance facts recorded with every run: project git commit and basic host facts. */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Root directory of the hyperlab project (from this module's URL). */
export const PROJECT_ROOT: string = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/**
 * Commit of the project (or, with `path`, the last commit touching that file), with `+dirty` when the work tree
 * differs. Null outside a git checkout.
 */
export async function gitCommit(path?: string): Promise<string | null> {
  try {
    const args = path ? ["log", "-1", "--format=%H", "--", path] : ["rev-parse", "HEAD"];
    const out = await new Deno.Command("git", { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "null" }).output();
    const sha = new TextDecoder().decode(out.stdout).trim();
    if (!out.success || !sha) return null;
    if (path) return sha;
    const st = await new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no"],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(st.stdout).trim() ? `${sha}+dirty` : sha;
  } catch {
    return null;
  }
}

/** Cheap host facts: hostname, OS, kernel, CPUs, memory, Deno version. */
export function basicHostFacts(): Record<string, unknown> {
  let os = "unknown";
  try {
    const rel = Deno.readTextFileSync("/etc/os-release");
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(rel)?.[1] ?? os;
  } catch { /* not Linux */ }
  return {
    hostname: Deno.hostname(),
    os,
    kernel: Deno.osRelease(),
    arch: Deno.build.arch,
    cpus: navigator.hardwareConcurrency,
    memBytes: Deno.systemMemoryInfo().total,
    deno: Deno.version.deno,
  };
}

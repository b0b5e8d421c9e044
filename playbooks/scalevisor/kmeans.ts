/**
 * The Scalevisor workload: the project's own kmeans (kmeans.c next to this file), built static so the same binary
 * runs on the host and inside a lab guest, and its one-line JSON result.
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { HyperlabError, InputError } from "../../lib/core/errors.ts";

/** Source of the kmeans program. */
export const KMEANS_SOURCE: string = fileURLToPath(new URL("./kmeans.c", import.meta.url));

/** Size of one kmeans run. */
export interface KmeansSize {
  points: number;
  dims: number;
  k: number;
  iterations: number;
}

/** What one run printed. */
export interface KmeansResult extends KmeansSize {
  working_set_bytes: number;
  seconds: number;
  inertia: number;
  checksum: string;
}

/** The cc command line that builds the static binary into `outDir`. */
export function kmeansBuildCommand(outDir: string): string[] {
  return ["cc", "-O2", "-static", "-o", join(outDir, "kmeans"), KMEANS_SOURCE, "-lm"];
}

/** Builds the static kmeans binary into `outDir` and returns its path. */
export async function buildKmeans(outDir: string): Promise<string> {
  const [cmd, ...args] = kmeansBuildCommand(outDir);
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) {
    throw new HyperlabError("build", `building kmeans failed: ${new TextDecoder().decode(o.stderr).trim()}`, {
      hint: "needs gcc and the static C library (Debian libc6-dev)",
    });
  }
  return join(outDir, "kmeans");
}

/** Points needed for a working set of `bytes` with `dims` dimensions. */
export function pointsFor(bytes: number, dims: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < dims * 4) {
    throw new InputError("workingSet", `at least ${dims * 4} bytes`, bytes);
  }
  return Math.floor(bytes / (dims * 4));
}

/** Parses kmeans' output line. */
export function parseKmeans(stdout: string): KmeansResult {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    const r = JSON.parse(line) as KmeansResult;
    if (typeof r.seconds === "number" && typeof r.checksum === "string") return r;
  } catch { /* below */ }
  throw new HyperlabError("kmeans", `kmeans printed no result line: ${JSON.stringify(stdout.slice(-200))}`);
}

/** Runs the binary locally with `size` and returns its result. */
export async function runKmeans(binary: string, size: KmeansSize, seed = 1): Promise<KmeansResult> {
  const args = [size.points, size.dims, size.k, size.iterations, seed].map(String);
  const o = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) {
    throw new HyperlabError("kmeans", `kmeans exited with ${o.code}: ${new TextDecoder().decode(o.stderr).trim()}`);
  }
  return parseKmeans(new TextDecoder().decode(o.stdout));
}

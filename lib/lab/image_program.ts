/**
 * The project's own small guest programs: C sources compiled statically (gcc -static) into the build cache, keyed
 * by the sources and flags, so an image can carry them without any shared library. Pass the result's `path` in a
 * guest image's `files` (or `programs`).
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HyperlabError, InputError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { buildAtomically, cacheDir, contentHash } from "./image_cache.ts";
import { exec } from "./image_exec.ts";

/** A static program to build. */
export const StaticProgramSchema = z.object({
  /** Program name (the cached binary's name). */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a file name (letters, digits, _ . -)"),
  /** C source files (absolute paths). */
  sources: z.array(z.string().regex(/^\/.*\.c$/, "an absolute path of a .c file")).min(1, "at least one source"),
  /** Extra compiler flags (e.g. -DDEBUG, -lpthread). */
  cflags: z.array(z.string().regex(/^-[A-Za-z][^\s]*$/, "a compiler flag like -O2 or -DX=1")).default([]),
}).strict();

/** A static program to build (input form). */
export type StaticProgramSpec = z.input<typeof StaticProgramSchema>;

/** A built static program. */
export interface StaticProgram {
  /** Path of the binary in the cache. */
  path: string;
  /** Cache key. */
  hash: string;
  /** True when it came from the cache. */
  cached: boolean;
}

/** Compiles `spec` with `gcc -static -O2` (or returns the cached binary). Compiler errors are reported verbatim. */
export async function buildStaticProgram(spec: StaticProgramSpec): Promise<StaticProgram> {
  const s = parseOrThrow(StaticProgramSchema, spec, "static program");
  const parts: (string | Uint8Array)[] = ["static-program-v1", s.name, ...s.cflags];
  for (const [i, src] of s.sources.entries()) {
    try {
      parts.push(src, await readFile(src));
    } catch {
      throw new InputError(`sources[${i}]`, "an existing C source file", src);
    }
  }
  const hash = contentHash(parts);
  const dir = join(await cacheDir("programs"), hash);
  const built = await buildAtomically(dir, async (tmp) => {
    await Deno.mkdir(tmp, { recursive: true });
    const r = await exec("gcc", ["-static", "-O2", "-o", join(tmp, s.name), ...s.sources, ...s.cflags], { pkg: "gcc" });
    if (r.code !== 0) {
      throw new HyperlabError(
        "compile",
        `gcc failed for ${s.name}:\n${r.stderr.trim().split("\n").slice(-15).join("\n")}`,
        {
          hint: "static linking needs libc6-dev (libc.a)",
        },
      );
    }
  });
  return { path: join(dir, s.name), hash, cached: !built };
}

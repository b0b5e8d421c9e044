/**
 * The one loader for the C shims in `ffi/`: resolves `ffi/build/lib<name>.so` from this module's URL, builds it on
 * first use when missing (`make -C ffi`), and keeps one library handle per process. Handles are never closed:
 * closing a library while objects that call into it are alive segfaults (see the FFI facts in the reference).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MissingError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";

/** Directory of the C sources and Makefile. */
export const FFI_DIR: string = join(PROJECT_ROOT, "ffi");
/** Directory the shims are built into. */
export const FFI_BUILD_DIR: string = join(FFI_DIR, "build");

// deno-lint-ignore no-explicit-any
const loaded = new Map<string, Deno.DynamicLibrary<any>>();

/** Path of a shim's shared object (in `ffiDir`/build, default the project's ffi/). */
export function shimPath(name: string, ffiDir = FFI_DIR): string {
  return join(ffiDir, "build", `lib${name}.so`);
}

/** Builds one shim with make; throws MissingError with make's output when it cannot be built. */
export function buildShim(name: string, ffiDir = FFI_DIR): void {
  const out = new Deno.Command("make", {
    args: ["-s", "-C", ffiDir, `build/lib${name}.so`],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  if (!out.success || !existsSync(shimPath(name, ffiDir))) {
    throw new MissingError(
      `FFI shim ${name} could not be built (make -C ffi build/lib${name}.so)`,
      text.trim().split("\n").slice(-6).join("\n") || "see ffi/Makefile",
    );
  }
}

/**
 * Opens shim `name` with `symbols`, building it first when needed. The same handle is returned for every call in
 * this process, so pass the same symbol table each time (define it once per shim module).
 */
export function loadShim<S extends Deno.ForeignLibraryInterface>(name: string, symbols: S): Deno.DynamicLibrary<S> {
  return loadShimFrom(FFI_DIR, name, symbols);
}

/** Like loadShim, from another directory holding shim sources and a Makefile (tests, out-of-tree shims). */
export function loadShimFrom<S extends Deno.ForeignLibraryInterface>(
  ffiDir: string,
  name: string,
  symbols: S,
): Deno.DynamicLibrary<S> {
  const path = shimPath(name, ffiDir);
  const have = loaded.get(path);
  if (have) return have as Deno.DynamicLibrary<S>;
  if (!existsSync(path)) buildShim(name, ffiDir);
  let lib: Deno.DynamicLibrary<S>;
  try {
    lib = Deno.dlopen(path, symbols);
  } catch (e) {
    throw new MissingError(`FFI shim ${path} could not be loaded: ${(e as Error).message}`, "rebuild with make -C ffi");
  }
  loaded.set(path, lib);
  return lib;
}

/** Reads a NUL-terminated C string written by a shim into `buf`. */
export function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/** Encodes a JS string as a NUL-terminated buffer for a shim. */
export function toCString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

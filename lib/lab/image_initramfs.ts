/**
 * Builds a bootable initramfs (gzip'd newc cpio) from busybox-static, host programs with the shared libraries ldd
 * finds for them, kernel modules (dependencies first, listed in `/lib/modules/load-order`), files and an init
 * script. The result is cached under `.hyperlab/cache/initramfs/<sha256>.cpio.gz`, keyed by the content of every
 * input, so it is rebuilt only when an input changes.
 * @module
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import { InputError, MissingError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { buildAtomically, cacheDir, contentHash, exists } from "./image_cache.ts";
import { type CpioEntry, writeCpio } from "./image_cpio.ts";
import { sharedLibraries } from "./image_libs.ts";
import { resolveModules } from "./kernel_modules.ts";
import type { Kernel } from "./kernel_package.ts";

const absPath = z.string().regex(/^\/[^\0]*$/, "an absolute path");

/** One file placed in the image: from a host file or literal content. */
export const ImageFileSchema = z.union([
  z.object({ path: absPath, source: absPath, mode: z.number().int().min(0).max(0o7777).optional() }).strict(),
  z.object({
    path: absPath,
    content: z.union([z.string(), z.instanceof(Uint8Array)]),
    mode: z.number().int().min(0).max(0o7777).optional(),
  }).strict(),
]);

/** What goes into an initramfs. */
export const InitramfsSpecSchema = z.object({
  /** The `/init` script (a shell script run by busybox sh). */
  init: z.string().startsWith("#!", "a script starting with #! (e.g. #!/bin/sh)"),
  /** Host path of a static busybox; every applet is linked in /bin. */
  busybox: absPath.default("/bin/busybox"),
  /** Host programs, copied to the same path in the image with the shared libraries they need. */
  programs: z.array(absPath).default([]),
  /** Extra shared libraries that programs dlopen (ldd does not list them). */
  libraries: z.array(absPath).default([]),
  /** Files to add. */
  files: z.array(ImageFileSchema).default([]),
  /** Symlinks to add: `path` → `target`. */
  symlinks: z.array(z.object({ path: absPath, target: z.string().min(1) }).strict()).default([]),
  /** Kernel modules (by name) to include, with dependencies; needs `kernel`. */
  modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, "a module name like virtio_net")).default([]),
}).strict();

/** What goes into an initramfs (input form, defaults applied by buildInitramfs). */
export type InitramfsSpec = z.input<typeof InitramfsSpecSchema>;

/** A built image in the cache. */
export interface Initramfs {
  /** Path of the `.cpio.gz`. */
  path: string;
  /** sha256 of the inputs (the cache key). */
  hash: string;
  /** False when this call built it, true when it came from the cache. */
  cached: boolean;
  /** Size in bytes. */
  bytes: number;
  /** Module names in load order (as in `/lib/modules/load-order`). */
  modules: string[];
}

const BASE_DIRS = [
  "bin",
  "sbin",
  "dev",
  "etc",
  "lib",
  "lib/modules",
  "proc",
  "root",
  "run",
  "sys",
  "tmp",
  "usr",
  "var",
];

async function readInput(path: string, field: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch {
    throw new InputError(field, "an existing readable file", path);
  }
}

/** Builds (or finds in the cache) the initramfs described by `spec`. `kernel` is needed when modules are listed. */
export async function buildInitramfs(spec: InitramfsSpec, kernel?: Kernel): Promise<Initramfs> {
  const s = parseOrThrow(InitramfsSpecSchema, spec, "initramfs");
  if (s.modules.length && !kernel) throw new InputError("kernel", "a fetched kernel when modules are listed");
  if (!await exists(s.busybox)) {
    throw new MissingError(`busybox not found at ${s.busybox}`, "apt-get install busybox-static");
  }

  const files = new Map<string, { data: Uint8Array; mode: number }>();
  const hashParts: (string | Uint8Array)[] = ["initramfs-v1", s.init];
  const add = (path: string, data: Uint8Array, mode: number) => {
    files.set(path, { data, mode });
    hashParts.push(path, String(mode), data);
  };

  const busybox = await readInput(s.busybox, "busybox");
  add("/bin/busybox", busybox, 0o755);
  const libs = new Set<string>(s.libraries);
  for (const [i, prog] of s.programs.entries()) {
    const data = await readInput(prog, `programs[${i}]`);
    add(prog, data, ((await stat(prog)).mode & 0o7777) | 0o555);
    for (const l of await sharedLibraries(prog)) libs.add(l);
  }
  for (const [i, lib] of [...libs].sort().entries()) {
    add(lib, await readInput(await realpath(lib).catch(() => lib), `libraries[${i}]`), 0o755);
  }
  const modules = kernel ? await resolveModules(kernel, s.modules) : [];
  for (const m of modules) add(`/lib/modules/${m.name}.ko`, await readInput(m.path, `modules (${m.name})`), 0o644);
  add("/lib/modules/load-order", new TextEncoder().encode(modules.map((m) => m.name).join("\n") + "\n"), 0o644);
  for (const [i, f] of s.files.entries()) {
    const data = "source" in f
      ? await readInput(f.source, `files[${i}].source`)
      : typeof f.content === "string"
      ? new TextEncoder().encode(f.content)
      : f.content;
    add(f.path, data, f.mode ?? 0o644);
  }
  add("/init", new TextEncoder().encode(s.init), 0o755);
  for (const l of s.symlinks) hashParts.push("symlink", l.path, l.target);

  const hash = contentHash(hashParts);
  const out = join(await cacheDir("initramfs"), `${hash}.cpio.gz`);
  const built = await buildAtomically(out, async (tmp) => {
    const applets = await busyboxApplets(s.busybox);
    await Deno.writeFile(tmp, gzipSync(writeCpio(entries(files, s.symlinks, applets)), { level: 6 }));
  });
  return { path: out, hash, cached: !built, bytes: (await stat(out)).size, modules: modules.map((m) => m.name) };
}

async function busyboxApplets(busybox: string): Promise<string[]> {
  const out = await new Deno.Command(busybox, { args: ["--list-full"], stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

function entries(
  files: Map<string, { data: Uint8Array; mode: number }>,
  symlinks: { path: string; target: string }[],
  applets: string[],
): CpioEntry[] {
  const out: CpioEntry[] = [];
  const dirs = new Set(BASE_DIRS.map((d) => "/" + d));
  const taken = new Set<string>();
  const addParents = (p: string) => {
    for (let d = dirname(p); d !== "/" && d !== "."; d = dirname(d)) dirs.add(d);
  };
  for (const [path, f] of files) {
    addParents(path);
    taken.add(path);
    out.push({ kind: "file", path, data: f.data, mode: f.mode });
  }
  for (const l of symlinks) {
    addParents(l.path);
    taken.add(l.path);
    out.push({ kind: "symlink", path: l.path, target: l.target });
  }
  // Each applet at its canonical place and in /bin, so a minimal PATH (dropbear's /usr/bin:/bin) finds them all.
  for (const a of applets) {
    const canonical = "/" + a.replace(/^\/+/, "");
    for (const p of [canonical, "/bin/" + canonical.split("/").pop()]) {
      if (taken.has(p) || dirs.has(p)) continue;
      addParents(p);
      taken.add(p);
      out.push({ kind: "symlink", path: p, target: "/bin/busybox" });
    }
  }
  for (const d of dirs) {
    if (!taken.has(d)) {
      out.push({ kind: "dir", path: d, mode: d === "/root" ? 0o700 : d === "/tmp" ? 0o1777 : 0o755 });
    }
  }
  out.push({ kind: "chardev", path: "/dev/console", major: 5, minor: 1 });
  return out.map((e) => ({ ...e, path: e.path.replace(/^\/+/, "") }));
}

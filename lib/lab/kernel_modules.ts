/**
 * Kernel modules for an initramfs: finds `.ko` files by module name in an unpacked Debian kernel and orders them
 * with their dependencies first (read from each module's `.modinfo` `depends=`), so busybox `insmod` can load them
 * in sequence without modules.dep or modprobe.
 * @module
 */
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { InputError } from "../core/errors.ts";
import type { Kernel } from "./kernel_package.ts";

/** One module to load: its canonical name and the `.ko` file. */
export interface ModuleFile {
  name: string;
  path: string;
}

/**
 * The modules a guest needs for virtio networking, virtio block devices (incl. NBD-backed drives) and NBD, in the
 * Debian config (all `=m` there; virtio core, virtio_pci, virtio_net, virtio_blk, failover).
 */
export const GUEST_BASE_MODULES: readonly string[] = ["virtio_pci", "virtio_net", "virtio_blk"];

/** Normalises `virtio-net` and `virtio_net.ko` to `virtio_net`. */
export function moduleName(s: string): string {
  return s.replace(/\.ko(\.(xz|zst|gz))?$/, "").replaceAll("-", "_");
}

const indexes = new Map<string, Promise<Map<string, string>>>();

async function moduleIndex(modulesDir: string): Promise<Map<string, string>> {
  let p = indexes.get(modulesDir);
  if (!p) {
    p = (async () => {
      const map = new Map<string, string>();
      const walk = async (dir: string) => {
        for await (const e of Deno.readDir(dir)) {
          const full = join(dir, e.name);
          if (e.isDirectory) await walk(full);
          else if (e.name.endsWith(".ko")) map.set(moduleName(e.name), full);
        }
      };
      await walk(join(modulesDir, "kernel"));
      return map;
    })();
    indexes.set(modulesDir, p);
  }
  return await p;
}

/** Reads the `depends=` list from a module's `.modinfo` strings. */
export function moduleDepends(ko: Uint8Array): string[] {
  const needle = new TextEncoder().encode("\0depends=");
  outer: for (let i = 0; i + needle.length < ko.length; i++) {
    for (let j = 0; j < needle.length; j++) if (ko[i + j] !== needle[j]) continue outer;
    let end = i + needle.length;
    while (end < ko.length && ko[end] !== 0) end++;
    const list = new TextDecoder().decode(ko.subarray(i + needle.length, end));
    return list ? list.split(",").map(moduleName) : [];
  }
  return [];
}

/** True when `name` is built into the kernel (listed in modules.builtin). */
export async function isBuiltin(kernel: Kernel, name: string): Promise<boolean> {
  const text = await readFile(join(kernel.modulesDir, "modules.builtin"), "utf8");
  const n = moduleName(name);
  return text.split("\n").some((l) => l && moduleName(basename(l)) === n);
}

/**
 * Resolves module names to files, dependencies first, each once. Built-in modules are skipped; a name that is
 * neither a module nor built in is an InputError.
 */
export async function resolveModules(kernel: Kernel, names: readonly string[]): Promise<ModuleFile[]> {
  const index = await moduleIndex(kernel.modulesDir);
  const order: ModuleFile[] = [];
  const seen = new Set<string>();
  const visit = async (raw: string, field: string) => {
    const name = moduleName(raw);
    if (seen.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (!path) {
      if (await isBuiltin(kernel, name)) return;
      throw new InputError(field, `a module of kernel ${kernel.release}`, raw);
    }
    for (const dep of moduleDepends(await readFile(path))) await visit(dep, `${field} (dependency ${dep})`);
    order.push({ name, path });
  };
  for (const [i, n] of names.entries()) await visit(n, `modules[${i}]`);
  return order;
}

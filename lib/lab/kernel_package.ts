/**
 * Guest kernels from Debian's linux-image packages: resolved with apt-cache, fetched with `apt-get download`,
 * unpacked with `dpkg -x` into `.hyperlab/cache/kernel/<package>_<version>/` (never installed into /boot). The
 * compressed bzImage is also unpacked to an ELF `vmlinux`, which QEMU boots through the PVH entry point without the
 * in-guest decompression that costs seconds under TCG.
 * @module
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { HyperlabError, MissingError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { buildAtomically, cacheDir, exists } from "./image_cache.ts";
import { exec, execOk } from "./image_exec.ts";

/** A kernel unpacked in the cache. */
export interface Kernel {
  /** Debian package, e.g. `linux-image-6.1.0-56-amd64`. */
  package: string;
  /** Debian package version, e.g. `6.1.192-2`. */
  debVersion: string;
  /** Kernel release (`uname -r` in the guest), e.g. `6.1.0-56-amd64`. */
  release: string;
  /** Cache directory of this kernel. */
  dir: string;
  /** The compressed bzImage. */
  vmlinuz: string;
  /** Uncompressed ELF kernel (PVH-bootable), or null when it could not be extracted. */
  vmlinux: string | null;
  /** `/lib/modules/<release>` inside the unpacked package. */
  modulesDir: string;
  /** The kernel's build config (`config-<release>`). */
  configPath: string;
}

/** Options of fetchKernel. */
export const KernelOptionsSchema = z.object({
  /** Exact package name; default: what Debian's `linux-image-amd64` meta-package depends on now. */
  package: z.string().regex(/^linux-image-[0-9][A-Za-z0-9.+~-]*$/, "a Debian linux-image-<release> package name")
    .optional(),
}).strict();

/** Options of fetchKernel (input form). */
export type KernelOptions = z.input<typeof KernelOptionsSchema>;

const META_PACKAGE = "linux-image-amd64";

/** Asks apt which linux-image package the `linux-image-amd64` meta-package currently points to. */
export async function resolveKernelPackage(meta = META_PACKAGE): Promise<string> {
  const r = await exec("apt-cache", ["depends", meta], { pkg: "apt" });
  const m = /Depends:\s*(linux-image-[0-9][^\s]*)/.exec(r.stdout);
  if (r.code !== 0 || !m) {
    throw new MissingError(
      `cannot resolve the current Debian kernel package from ${meta}`,
      "run `apt-get update` (Debian apt sources must be reachable), or pass an exact package name",
    );
  }
  return m[1];
}

async function candidateVersion(pkg: string): Promise<string> {
  const r = await exec("apt-cache", ["policy", pkg], { pkg: "apt" });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout);
  if (!m || m[1] === "(none)") {
    throw new MissingError(`Debian package ${pkg} is not available from apt`, "run `apt-get update` or pick another");
  }
  return m[1];
}

// apt's answer does not change while a process runs: ask once per process (apt-cache costs ~0.5 s per call).
const resolved = new Map<string, Promise<{ pkg: string; version: string }>>();

function resolveOnce(pkg?: string): Promise<{ pkg: string; version: string }> {
  const key = pkg ?? "";
  let p = resolved.get(key);
  if (!p) {
    p = (async () => {
      const name = pkg ?? await resolveKernelPackage();
      return { pkg: name, version: await candidateVersion(name) };
    })();
    p.catch(() => resolved.delete(key));
    resolved.set(key, p);
  }
  return p;
}

/**
 * Returns the cached kernel for the current (or given) package, fetching and unpacking it first when absent.
 * When apt cannot be asked (no network, no lists), falls back to the newest kernel already in the cache.
 */
export async function fetchKernel(options: KernelOptions = {}): Promise<Kernel> {
  const opts = parseOrThrow(KernelOptionsSchema, options, "fetchKernel");
  const root = await cacheDir("kernel");
  let pkg: string;
  let version: string;
  try {
    ({ pkg, version } = await resolveOnce(opts.package));
  } catch (e) {
    const cached = await newestCached(root, opts.package);
    if (cached) return cached;
    throw e;
  }
  const dir = join(root, `${pkg}_${version}`);
  await buildAtomically(dir, async (tmp) => {
    await Deno.mkdir(tmp, { recursive: true });
    const dl = await exec("apt-get", ["download", `${pkg}=${version}`], { cwd: tmp, pkg: "apt" });
    const deb = (await readdir(tmp)).find((f) => f.endsWith(".deb"));
    if (!deb) {
      throw new MissingError(
        `apt-get download ${pkg}=${version} failed: ${dl.stderr.trim().split("\n").pop()}`,
        "check Debian apt sources (`apt-get update`)",
      );
    }
    await execOk("dpkg", ["-x", join(tmp, deb), join(tmp, "root")], { pkg: "dpkg" });
    await Deno.remove(join(tmp, deb));
    const release = pkg.replace(/^linux-image-/, "");
    const vmlinuz = join(tmp, "root", "boot", `vmlinuz-${release}`);
    if (!await exists(vmlinuz)) throw new HyperlabError("kernel", `${pkg} has no /boot/vmlinuz-${release}`);
    const vmlinux = await extractVmlinux(await readFile(vmlinuz));
    if (vmlinux) await writeFile(join(tmp, "vmlinux"), vmlinux);
    await writeFile(join(tmp, "manifest.json"), JSON.stringify({ package: pkg, debVersion: version, release }));
  });
  return await loadCached(dir);
}

async function loadCached(dir: string): Promise<Kernel> {
  const m = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  const vmlinux = join(dir, "vmlinux");
  return {
    package: m.package,
    debVersion: m.debVersion,
    release: m.release,
    dir,
    vmlinuz: join(dir, "root", "boot", `vmlinuz-${m.release}`),
    vmlinux: await exists(vmlinux) ? vmlinux : null,
    modulesDir: join(dir, "root", "lib", "modules", m.release),
    configPath: join(dir, "root", "boot", `config-${m.release}`),
  };
}

async function newestCached(root: string, pkg?: string): Promise<Kernel | null> {
  const names = (await readdir(root)).filter((n) => !n.includes(".tmp-") && (!pkg || n.startsWith(`${pkg}_`)));
  names.sort().reverse();
  for (const n of names) {
    if (await exists(join(root, n, "manifest.json"))) return await loadCached(join(root, n));
  }
  return null;
}

/** Unpacks the xz payload of a bzImage into the ELF vmlinux; null when the image is not xz-compressed. */
export async function extractVmlinux(bzImage: Uint8Array): Promise<Uint8Array | null> {
  const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  let off = -1;
  outer: for (let i = 0; i + magic.length <= bzImage.length; i++) {
    for (let j = 0; j < magic.length; j++) if (bzImage[i + j] !== magic[j]) continue outer;
    off = i;
    break;
  }
  if (off < 0) return null;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("xz", {
      args: ["-dc", "--single-stream"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch {
    return null; // no xz: the compressed bzImage still boots, only slower
  }
  const w = child.stdin.getWriter();
  const writing = w.write(bzImage.subarray(off)).then(() => w.close()).catch(() => {});
  const out = await child.output();
  await writing;
  const elf = out.stdout;
  const isElf = elf.length > 4 && elf[0] === 0x7f && elf[1] === 0x45 && elf[2] === 0x4c && elf[3] === 0x46;
  return isElf ? elf : null;
}

/** Reads `CONFIG_<name>` from a kernel config: "y" (built in), "m" (module) or null (not set). */
export async function kernelConfigValue(kernel: Kernel, name: string): Promise<"y" | "m" | null> {
  const text = await readFile(kernel.configPath, "utf8");
  const key = name.startsWith("CONFIG_") ? name : `CONFIG_${name}`;
  const m = new RegExp(`^${key}=(y|m)$`, "m").exec(text);
  return (m?.[1] as "y" | "m" | undefined) ?? null;
}

/**
 * Xen from Debian's packages, for the Xen lab host: `xen-hypervisor-4.17-amd64`, `xen-utils-4.17` and
 * `xen-utils-common` are fetched with `apt-get download` and unpacked with `dpkg -x` into
 * `.hyperlab/cache/xen/<version>/` (never installed on this machine: the hypervisor must not land in /boot). The
 * gzip'd hypervisor is unpacked to the multiboot ELF `xen` that QEMU's `-kernel` accepts.
 * @module
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { HyperlabError, MissingError } from "../core/errors.ts";
import { buildAtomically, cacheDir, exists } from "./image_cache.ts";
import { exec, execOk } from "./image_exec.ts";

/** The Xen series the lab host uses (Debian 12's). */
export const XEN_SERIES = "4.17";

/** Debian packages unpacked for the Xen lab host. */
export const XEN_PACKAGES: readonly string[] = [
  `xen-hypervisor-${XEN_SERIES}-amd64`,
  `xen-utils-${XEN_SERIES}`,
  "xen-utils-common",
];

/** Xen unpacked in the cache. */
export interface XenPackages {
  /** Debian version of xen-hypervisor, e.g. `4.17.7+13-g2445b30a44-0+deb12u1`. */
  debVersion: string;
  /** Cache directory. */
  dir: string;
  /** The hypervisor as a multiboot ELF. */
  hypervisor: string;
  /** Root of the unpacked packages (`usr/lib/xen-4.17/bin/xl` …). */
  root: string;
  /** Directory of the Xen tools inside `root` (`usr/lib/xen-4.17/bin`). */
  toolsDir: string;
}

async function candidate(pkg: string): Promise<string> {
  const r = await exec("apt-cache", ["policy", pkg], { pkg: "apt" });
  const m = /Candidate:\s*(\S+)/.exec(r.stdout);
  if (!m || m[1] === "(none)") {
    throw new MissingError(
      `Debian package ${pkg} is not available from apt`,
      "run `apt-get update` (Debian 12 sources)",
    );
  }
  return m[1];
}

/**
 * Returns Xen unpacked in the cache, fetching it first when absent. When apt cannot be asked, the newest cached
 * unpack is used.
 */
export async function fetchXenPackages(): Promise<XenPackages> {
  const root = await cacheDir("xen");
  let versions: string[];
  try {
    versions = await Promise.all(XEN_PACKAGES.map(candidate));
  } catch (e) {
    const cached = (await readdir(root)).filter((n) => !n.includes(".tmp-")).sort().reverse();
    for (const n of cached) if (await exists(join(root, n, "manifest.json"))) return await load(join(root, n));
    throw e;
  }
  const dir = join(root, [...new Set(versions)].join("_").replace(/[^A-Za-z0-9.+_-]/g, "_"));
  await buildAtomically(dir, async (tmp) => {
    await Deno.mkdir(tmp, { recursive: true });
    for (const [i, pkg] of XEN_PACKAGES.entries()) {
      const dl = await exec("apt-get", ["download", `${pkg}=${versions[i]}`], { cwd: tmp, pkg: "apt" });
      const deb = (await readdir(tmp)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb"));
      if (!deb) {
        throw new MissingError(
          `apt-get download ${pkg}=${versions[i]} failed: ${dl.stderr.trim().split("\n").pop()}`,
          "check Debian apt sources (`apt-get update`)",
        );
      }
      await execOk("dpkg", ["-x", join(tmp, deb), join(tmp, "root")], { pkg: "dpkg" });
      await Deno.remove(join(tmp, deb));
    }
    const gz = join(tmp, "root", "boot", `xen-${XEN_SERIES}-amd64.gz`);
    if (!await exists(gz)) throw new HyperlabError("xen", `${XEN_PACKAGES[0]} has no /boot/xen-${XEN_SERIES}-amd64.gz`);
    await writeFile(join(tmp, "xen"), gunzipSync(await readFile(gz)));
    await writeFile(join(tmp, "manifest.json"), JSON.stringify({ debVersion: versions[0], packages: XEN_PACKAGES }));
  });
  return await load(dir);
}

async function load(dir: string): Promise<XenPackages> {
  const m = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  const root = join(dir, "root");
  return {
    debVersion: m.debVersion,
    dir,
    hypervisor: join(dir, "xen"),
    root,
    toolsDir: join(root, "usr", "lib", `xen-${XEN_SERIES}`, "bin"),
  };
}

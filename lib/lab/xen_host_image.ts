/**
 * The Xen lab host's boot files: Debian's Xen 4.17 hypervisor (multiboot ELF), the uncompressed dom0 vmlinux, and
 * a dom0 initramfs holding busybox, the Xen tools (xenstored, oxenstored, xl, xen-init-dom0, xenconsoled, …) with
 * every library ldd lists plus libgcc_s.so.1 (xl aborts without it), xenstore-utils, the Xen and 9p kernel modules
 * in dependency order, dropbear (+ OpenSSH's sftp-server) with the lab keys, a wrapper that runs the host's Deno
 * from a 9p share (also linked where the cluster agent looks for its Deno, so it is never uploaded), and the
 * dom0 init (lib/lab/xen_host/dom0-init.sh). The initramfs is cached by the content hash of all of it.
 * @module
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, join } from "node:path";
import type { z } from "zod";
import { HyperlabError, MissingError } from "../core/errors.ts";
import { buildShim, shimPath } from "../ffi/loader.ts";
import { sha256File } from "../remote/mod.ts";
import { exists } from "./image_cache.ts";
import { buildInitramfs, type ImageFileSchema, type Initramfs } from "./image_initramfs.ts";
import { sharedLibraries } from "./image_libs.ts";
import { type GuestKeys, guestKeys } from "./guest_keys.ts";
import { fetchKernel, type Kernel } from "./kernel_package.ts";
import { fetchXenPackages, XEN_SERIES, type XenPackages } from "./xen_host_packages.ts";

/** Where the Xen tools live in dom0 (as in Debian). */
export const DOM0_XEN_BIN = `/usr/lib/xen-${XEN_SERIES}/bin`;

/** Xen tools copied into dom0 from xen-utils. */
export const DOM0_XEN_TOOLS: readonly string[] = [
  "xenstored",
  "oxenstored",
  "xl",
  "xen-init-dom0",
  "xenconsoled",
  "xenstore-control",
  "xenconsole",
  "libxl-save-helper",
];

/** xenstore-utils programs copied from this machine. */
export const DOM0_XENSTORE_UTILS: readonly string[] = [
  "xenstore",
  "xenstore-chmod",
  "xenstore-exists",
  "xenstore-list",
  "xenstore-ls",
  "xenstore-read",
  "xenstore-rm",
  "xenstore-watch",
  "xenstore-write",
];

/** Kernel modules dom0 loads, in this order (dependencies are added first): Xen devices, virtio-net, 9p. */
export const DOM0_MODULES: readonly string[] = [
  "xen_privcmd",
  "xenfs",
  "xen_evtchn",
  "xen_gntdev",
  "xen_gntalloc",
  "virtio_pci",
  "virtio_net",
  "9pnet_virtio",
  "9p",
];

/** The wrapper in dom0 that runs the host's Deno from the `hldeno` share. */
export const DOM0_DENO = "/usr/bin/hyperlab-deno";

const LIBGCC = "/lib/x86_64-linux-gnu/libgcc_s.so.1";
const DROPBEAR = "/usr/sbin/dropbear";
/** OpenSSH's SFTP server: dropbear runs /usr/lib/sftp-server for the cluster layer's uploads. */
const SFTP_SERVER = "/usr/lib/openssh/sftp-server";

let denoHash: Promise<string> | undefined;
/** sha256 of this Deno executable, as the cluster agent names its copy on a node (`deno-<first 16 hex>`). */
function denoSha256(path: string): Promise<string> {
  denoHash ??= sha256File(path);
  return denoHash;
}

/** Everything the Xen lab host boots. */
export interface XenHostImage {
  xen: XenPackages;
  kernel: Kernel;
  /** The dom0 kernel file handed to Xen (uncompressed vmlinux when it could be extracted). */
  dom0Kernel: string;
  initramfs: Initramfs;
  keys: GuestKeys;
}

async function scriptText(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`./xen_host/${name}`, import.meta.url));
}

/** Builds (or finds in the cache) the hypervisor, dom0 kernel and dom0 initramfs. */
export async function buildXenHostImage(opts: { kernelPackage?: string } = {}): Promise<XenHostImage> {
  for (const p of [DROPBEAR, "/usr/bin/xenstore-read", LIBGCC, SFTP_SERVER]) {
    if (!await exists(p)) {
      const pkg = p === DROPBEAR
        ? "dropbear-bin"
        : p === LIBGCC
        ? "libgcc-s1"
        : p === SFTP_SERVER
        ? "openssh-sftp-server"
        : "xenstore-utils";
      throw new MissingError(`${p} is missing (needed in the Xen lab host's dom0)`, `apt-get install ${pkg}`);
    }
  }
  const [xen, kernel, keys] = await Promise.all([
    fetchXenPackages(),
    fetchKernel(opts.kernelPackage ? { package: opts.kernelPackage } : {}),
    guestKeys(),
  ]);
  // The shims dom0 loads from the project share must exist: dom0 has no compiler.
  const shims = ["xenstore", "xenctrl"].map((n) => {
    if (!existsSync(shimPath(n))) buildShim(n);
    return shimPath(n);
  });
  const deno = realpathSync(Deno.execPath());
  const libraries = new Set<string>([LIBGCC]);
  const files: z.input<typeof ImageFileSchema>[] = [];
  for (const t of DOM0_XEN_TOOLS) {
    const src = join(xen.toolsDir, t);
    if (!await exists(src)) throw new HyperlabError("xen", `xen-utils-${XEN_SERIES} has no ${t} (${src})`);
    files.push({ path: `${DOM0_XEN_BIN}/${t}`, source: src, mode: 0o755 });
    for (const l of await sharedLibraries(src)) libraries.add(l);
  }
  for (const extra of [deno, ...shims]) for (const l of await sharedLibraries(extra)) libraries.add(l);
  const etc = join(xen.root, "etc", "xen");
  files.push(
    { path: "/etc/xen/xl.conf", source: join(etc, "xl.conf") },
    { path: "/etc/xen/oxenstored.conf", source: join(etc, "oxenstored.conf") },
    // libxen-dev's headers: the xen/xenstore tests check for them before using the (prebuilt) shims.
    { path: "/usr/include/xenstore.h", source: "/usr/include/xenstore.h" },
    { path: "/usr/include/xenctrl.h", source: "/usr/include/xenctrl.h" },
    { path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
    { path: "/etc/group", content: "root:x:0:\n" },
    { path: "/etc/shells", content: "/bin/sh\n" },
    { path: "/etc/dropbear/dropbear_ed25519_host_key", source: keys.hostKey, mode: 0o600 },
    { path: "/root/.ssh/authorized_keys", content: keys.clientPublic + "\n", mode: 0o600 },
    { path: DOM0_DENO, content: (await scriptText("hyperlab-deno.sh")).replace("@DENO@", basename(deno)), mode: 0o755 },
  );
  // The cluster agent finds "its" Deno already installed in dom0 (the 9p share), so only the source is uploaded.
  const agentDeno = `/root/.cache/hyperlab/deno-${(await denoSha256(deno)).slice(0, 16)}`;
  const initramfs = await buildInitramfs({
    init: await scriptText("dom0-init.sh"),
    programs: [DROPBEAR, SFTP_SERVER, ...DOM0_XENSTORE_UTILS.map((u) => `/usr/bin/${u}`)],
    libraries: [...libraries].sort(),
    modules: [...DOM0_MODULES],
    files,
    symlinks: [
      // libxl needs /var/run/xen (domid-history.lock) on the tmpfs, else guests are left as (null) zombies.
      { path: "/var/run", target: "../run" },
      // dropbear's sessions have PATH=/usr/bin:/bin.
      ...["xl", "xenconsole", "xenstore-control"].map((t) => ({
        path: `/usr/bin/${t}`,
        target: `${DOM0_XEN_BIN}/${t}`,
      })),
      { path: "/usr/lib/sftp-server", target: SFTP_SERVER },
      { path: agentDeno, target: `/mnt/deno/${basename(deno)}` },
    ],
  }, kernel);
  return { xen, kernel, dom0Kernel: kernel.vmlinux ?? kernel.vmlinuz, initramfs, keys };
}

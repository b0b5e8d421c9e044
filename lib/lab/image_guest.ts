/**
 * The standard lab guest image: a Debian kernel plus an initramfs with busybox, the virtio modules, a static network
 * setup for QEMU user networking, and dropbear with the generated host key and authorized client key. Its init
 * prints two markers on the console: {@link USERSPACE_MARKER} when userspace starts and {@link SSH_READY_MARKER}
 * when dropbear listens.
 * @module
 */
import { z } from "zod";
import { MissingError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { exists } from "./image_cache.ts";
import { buildInitramfs, ImageFileSchema, type Initramfs } from "./image_initramfs.ts";
import { type GuestKeys, guestKeys } from "./guest_keys.ts";
import { GUEST_BASE_MODULES } from "./kernel_modules.ts";
import { fetchKernel, type Kernel, KernelOptionsSchema } from "./kernel_package.ts";

/** Printed by the guest's init as soon as userspace runs. */
export const USERSPACE_MARKER = "hyperlab-guest: userspace";
/** Printed by the guest's init once dropbear is listening. */
export const SSH_READY_MARKER = "hyperlab-guest: sshd ready";

const DROPBEAR = "/usr/sbin/dropbear";

/** What to add to the standard guest image. */
export const GuestImageSpecSchema = z.object({
  /** Which Debian kernel (default: the current linux-image-amd64 dependency). */
  kernel: KernelOptionsSchema.default({}),
  /** Extra kernel modules (loaded at boot after the virtio ones). */
  modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, "a module name like nbd")).default([]),
  /** Extra host programs (with their shared libraries). */
  programs: z.array(z.string().regex(/^\//, "an absolute path")).default([]),
  /** Extra files. */
  files: z.array(ImageFileSchema).default([]),
  /** Shell lines the guest runs after sshd is up (e.g. start an experiment's daemon). */
  initExtra: z.string().default(""),
}).strict();

/** What to add to the standard guest image (input form). */
export type GuestImageSpec = z.input<typeof GuestImageSpecSchema>;

/** Everything needed to boot a guest and log in. */
export interface GuestImage {
  kernel: Kernel;
  initramfs: Initramfs;
  keys: GuestKeys;
}

/** The guest's /init script. */
export function guestInitScript(extra = ""): string {
  return `#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp /var/log
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
echo "${USERSPACE_MARKER} uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko || echo "hyperlab-guest: insmod $m failed"; done
name=$(sed -n 's/.*hyperlab.name=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
hostname "\${name:-guest}"
ip link set lo up
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
if [ -n "$nic" ]; then
  ip link set "$nic" up
  ip addr add 10.0.2.15/24 dev "$nic"
  ip route add default via 10.0.2.2
  dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -s -E 2>/var/log/dropbear.log
  echo "${SSH_READY_MARKER} uptime=$(cut -d' ' -f1 /proc/uptime)"
else
  echo "hyperlab-guest: no network interface, no sshd"
fi
${extra}
while true; do sleep 3600; done
`;
}

/** Fetches the kernel, generates keys and builds (or reuses) the guest initramfs. */
export async function buildGuestImage(spec: GuestImageSpec = {}): Promise<GuestImage> {
  const s = parseOrThrow(GuestImageSpecSchema, spec, "guest image");
  if (!await exists(DROPBEAR)) {
    throw new MissingError(`dropbear is not installed (${DROPBEAR})`, "apt-get install dropbear-bin");
  }
  const [kernel, keys] = await Promise.all([fetchKernel(s.kernel), guestKeys()]);
  const initramfs = await buildInitramfs({
    init: guestInitScript(s.initExtra),
    programs: [DROPBEAR, ...s.programs],
    modules: [...GUEST_BASE_MODULES, ...s.modules],
    files: [
      { path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
      { path: "/etc/group", content: "root:x:0:\n" },
      { path: "/etc/shells", content: "/bin/sh\n" },
      { path: "/etc/dropbear/dropbear_ed25519_host_key", source: keys.hostKey, mode: 0o600 },
      { path: "/root/.ssh/authorized_keys", content: keys.clientPublic + "\n", mode: 0o600 },
      ...s.files,
    ],
  }, kernel);
  return { kernel, initramfs, keys };
}

/**
 * What lab guests add to the standard guest image: OpenSSH's sshd (with sftp-server) takes over port 22 from
 * dropbear once the guest is up, with the same host key, so the lab inventory's known_hosts entry still holds.
 * Debian 12's dropbear 2022.83 drops a whole SSH session when a channel opens while an earlier channel's process
 * exit is pending (mkj/dropbear#321, fixed upstream by PR #326); the cluster layer hits that with back-to-back
 * SFTP transfers on its one persistent connection per node. When the host lacks sshd, guests keep dropbear (with
 * sftp-server where the host has it).
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HyperlabError } from "../core/errors.ts";
import { buildAtomically, cacheDir } from "./image_cache.ts";
import { execOk } from "./image_exec.ts";
import type { GuestImageSpec } from "./image_guest.ts";
import { guestKeys } from "./guest_keys.ts";

/** Printed on the guest console once OpenSSH's sshd listens on port 22 instead of dropbear. */
export const LAB_SSHD_MARKER = "hyperlab-lab: openssh ready";

const SSHD = "/usr/sbin/sshd";
const SFTP_SERVER = "/usr/lib/openssh/sftp-server";
/** Where dropbear looks for its SFTP subsystem (Debian: a link to OpenSSH's). */
const DROPBEAR_SFTP = "/usr/lib/sftp-server";

const SSHD_CONFIG = `Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 32
MaxStartups 64:30:128
Subsystem sftp ${SFTP_SERVER}
LogLevel ERROR
`;

/** The guests' dropbear host key converted to OpenSSH's format (once, cached next to the guest keys). */
async function opensshHostKey(): Promise<string> {
  const keys = await guestKeys();
  const dir = join(await cacheDir(), "keys-openssh");
  await buildAtomically(dir, async (tmp) => {
    await Deno.mkdir(tmp, { mode: 0o700 });
    await execOk("dropbearconvert", ["dropbear", "openssh", keys.hostKey, join(tmp, "ssh_host_ed25519_key")], {
      pkg: "dropbear-bin",
    });
  });
  const key = join(dir, "ssh_host_ed25519_key");
  const pub = (await execOk("ssh-keygen", ["-y", "-f", key], { pkg: "openssh-client" })).stdout.trim();
  if (pub.split(/\s+/).slice(0, 2).join(" ") !== keys.hostPublic) {
    throw new HyperlabError("lab", `converted host key ${key} does not match the guests' dropbear host key`, {
      hint: `remove ${dir} and run \`lab up\` again`,
    });
  }
  return key;
}

/** Whether lab guests get OpenSSH (true) or keep dropbear, and the image additions that do it. */
export async function labGuestImage(): Promise<{ openssh: boolean; image: GuestImageSpec }> {
  if (!existsSync(SSHD) || !existsSync(SFTP_SERVER)) {
    return { openssh: false, image: existsSync(DROPBEAR_SFTP) ? { programs: [DROPBEAR_SFTP] } : {} };
  }
  const hostKey = await opensshHostKey();
  return {
    openssh: true,
    image: {
      programs: [SSHD, SFTP_SERVER],
      files: [
        { path: "/etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n" },
        { path: "/etc/group", content: "root:x:0:\nnogroup:x:65534:\n" },
        { path: "/etc/ssh/sshd_config", content: SSHD_CONFIG },
        { path: "/etc/ssh/ssh_host_ed25519_key", source: hostKey, mode: 0o600 },
      ],
      // dropbear goes (with any session the boot check may still have open), sshd binds port 22 once it is free.
      initExtra: `mkdir -p /run/sshd && chmod 755 /run/sshd
kill $(pidof dropbear) 2>/dev/null
i=0
until ${SSHD} -E /var/log/sshd.log; do
  i=$((i + 1)); [ "$i" -ge 50 ] && { echo "hyperlab-lab: sshd failed: $(tail -n 3 /var/log/sshd.log)"; break; }
  sleep 0.1
done
[ "$i" -lt 50 ] && echo "${LAB_SSHD_MARKER}"`,
    },
  };
}

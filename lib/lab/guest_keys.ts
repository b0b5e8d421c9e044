/**
 * SSH keys for lab guests, generated once into `.hyperlab/cache/keys/`: the client key hyperlab logs in with
 * (OpenSSH ed25519) and the guests' dropbear host key. Because the host key is fixed and known, each guest gets an
 * exact known_hosts entry: no trust-on-first-use.
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HyperlabError } from "../core/errors.ts";
import { buildAtomically, cacheDir } from "./image_cache.ts";
import { execOk } from "./image_exec.ts";

/** Paths and public halves of the guest keys. */
export interface GuestKeys {
  /** Private client key (OpenSSH format) for `ssh -i`. */
  clientKey: string;
  /** Public client key line, placed in the guest's /root/.ssh/authorized_keys. */
  clientPublic: string;
  /** Dropbear host key file, placed in the guest's /etc/dropbear/. */
  hostKey: string;
  /** Public host key (`ssh-ed25519 AAAA…`), for known_hosts. */
  hostPublic: string;
}

/** Returns the guest keys, generating them on first use. */
export async function guestKeys(): Promise<GuestKeys> {
  const dir = join(await cacheDir(), "keys");
  await buildAtomically(dir, async (tmp) => {
    await Deno.mkdir(tmp, { mode: 0o700 });
    await execOk(
      "ssh-keygen",
      ["-q", "-t", "ed25519", "-N", "", "-C", "hyperlab-guest", "-f", join(tmp, "id_ed25519")],
      {
        pkg: "openssh-client",
      },
    );
    await execOk("dropbearkey", ["-t", "ed25519", "-f", join(tmp, "dropbear_ed25519_host_key")], {
      pkg: "dropbear-bin",
    });
    const y = await execOk("dropbearkey", ["-y", "-f", join(tmp, "dropbear_ed25519_host_key")], {
      pkg: "dropbear-bin",
    });
    const line = y.stdout.split("\n").find((l) => l.startsWith("ssh-ed25519 "));
    if (!line) throw new HyperlabError("keys", `dropbearkey -y printed no public key:\n${y.stdout}`);
    await writeFile(join(tmp, "host_ed25519.pub"), line.split(" ").slice(0, 2).join(" ") + "\n");
  });
  return {
    clientKey: join(dir, "id_ed25519"),
    clientPublic: (await readFile(join(dir, "id_ed25519.pub"), "utf8")).trim(),
    hostKey: join(dir, "dropbear_ed25519_host_key"),
    hostPublic: (await readFile(join(dir, "host_ed25519.pub"), "utf8")).trim(),
  };
}

/** The known_hosts line for a guest reached at `host:port`. */
export function knownHostsLine(keys: GuestKeys, host: string, port: number): string {
  const name = port === 22 ? host : `[${host}]:${port}`;
  return `${name} ${keys.hostPublic}\n`;
}

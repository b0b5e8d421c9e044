/**
 * SSH into the aggregate VM through the origin (the guest sits on the origin's tap/bridge): an ssh2 connection
 * tunnelled over the origin's connection (`forwardOut`), password login trying the inventory's credentials
 * (origin `vars.guestUser` / `vars.guestPassword`) and then the documented defaults root/root, root/popcorn,
 * popcorn/popcorn. The guest's host key is new on every ramdisk boot: it is accepted and its fingerprint logged.
 * @module
 */
import { createHash } from "node:crypto";
// lib/remote's mod.ts does not export the ssh2 client class; ssh2.ts is its single import point of ssh2 (and of its
// types), so this follows any change made there.
import { type Client, type ConnectConfig, newClient } from "../remote/ssh2.ts";
import { currentRun, effect } from "../core/ambient.ts";
import { HyperlabError } from "../core/errors.ts";
import type { RemoteNode } from "../remote/mod.ts";

/** A login tried on the guest. */
export interface GuestCredential {
  user: string;
  password: string;
}

/** The documented FragVisor guest logins. */
export const DEFAULT_GUEST_CREDENTIALS: readonly GuestCredential[] = [
  { user: "root", password: "root" },
  { user: "root", password: "popcorn" },
  { user: "popcorn", password: "popcorn" },
];

/** Credentials to try: the origin's inventory vars first, then the defaults. */
export function guestCredentials(origin: { vars: Record<string, unknown> }): GuestCredential[] {
  const u = origin.vars.guestUser, p = origin.vars.guestPassword;
  const first = typeof u === "string" && typeof p === "string" ? [{ user: u, password: p }] : [];
  return [...first, ...DEFAULT_GUEST_CREDENTIALS];
}

/** A shell in the guest. */
export interface GuestShell {
  readonly user: string;
  /** Runs a shell command; resolves with exit code and output. */
  exec(cmd: string, timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): void;
}

type SshClient = Client;

function tryLogin(origin: RemoteNode, guestIp: string, cred: GuestCredential): Promise<SshClient> {
  return origin.connection.client().then((jump) =>
    new Promise<SshClient>((resolve, reject) => {
      jump.forwardOut("127.0.0.1", 0, guestIp, 22, (err, stream) => {
        if (err) return reject(err);
        const c = newClient();
        c.once("ready", () => resolve(c));
        c.once("error", (e: Error) => reject(e));
        const config: ConnectConfig & { password: string } = {
          sock: stream,
          username: cred.user,
          password: cred.password,
          readyTimeout: 15_000,
          hostVerifier: (key: Uint8Array, verify: (ok: boolean) => void) => {
            const fp = createHash("sha256").update(key).digest("base64");
            currentRun()?.log.info(`guest ${guestIp} host key SHA256:${fp} (accepted: new on every boot)`, "guest");
            verify(true);
          },
        };
        c.connect(config);
      });
    })
  );
}

/** Logs into the guest through the origin, trying each credential in turn. */
export function connectGuest(
  origin: RemoteNode,
  guestIp: string,
  creds: readonly GuestCredential[],
): Promise<GuestShell> {
  return effect(
    {
      kind: "ssh",
      target: `guest ${guestIp} via ${origin.name}`,
      action: `login as ${creds.map((c) => c.user).join(" | ")}`,
    },
    async () => {
      const errors: string[] = [];
      for (const cred of creds) {
        try {
          const c = await tryLogin(origin, guestIp, cred);
          return shellOf(c, cred.user, guestIp);
        } catch (e) {
          errors.push(`${cred.user}: ${(e as Error).message}`);
        }
      }
      throw new HyperlabError(
        "guest-ssh",
        `cannot log into the guest ${guestIp} via ${origin.name}: ${errors.join("; ")}`,
      );
    },
    () => dryShell(guestIp),
  );
}

function dryShell(guestIp: string): GuestShell {
  return {
    user: "(dry-run)",
    exec: (cmd) =>
      effect({ kind: "ssh", target: `guest ${guestIp}`, action: cmd }, () => {
        throw new Error("unreachable: dry-run shell");
      }, () => ({ code: 0, stdout: "", stderr: "" })),
    close() {},
  };
}

function shellOf(c: SshClient, user: string, guestIp: string): GuestShell {
  return {
    user,
    exec(cmd, timeoutMs = 600_000) {
      return effect({ kind: "ssh", target: `guest ${guestIp}`, action: cmd }, () =>
        new Promise((resolve, reject) => {
          c.exec(cmd, (err, ch) => {
            if (err) return reject(err);
            let stdout = "", stderr = "", code: number | null = null;
            const t = setTimeout(() => {
              ch.close();
              reject(new HyperlabError("timeout", `guest command timed out after ${timeoutMs} ms: ${cmd}`));
            }, timeoutMs);
            ch.on("data", (d: Uint8Array) => stdout += new TextDecoder().decode(d));
            ch.stderr.on("data", (d: Uint8Array) => stderr += new TextDecoder().decode(d));
            ch.on("exit", (x: number | null) => code = x);
            ch.on("close", () => {
              clearTimeout(t);
              resolve({ code, stdout, stderr });
            });
          });
        }), () => ({ code: 0, stdout: "", stderr: "" }));
    },
    close: () => c.end(),
  };
}

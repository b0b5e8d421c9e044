/**
 * One persistent SSH connection to one node on npm:ssh2: our own TCP socket with no-delay (Nagle + delayed ACK
 * would add ~40 ms per round trip), host keys checked against known_hosts, keepalives, jump hosts through
 * `forwardOut`, connection retries with backoff (network errors only) and reconnect after a loss.
 * @module
 */
import { readFileSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Duplex } from "node:stream";
import pLimit from "p-limit";
import { CancelledError, InputError } from "../core/errors.ts";
import { fingerprint, KnownHosts } from "./known_hosts.ts";
import { RemoteError } from "./errors.ts";
import { type Client, type ConnectConfig, newClient } from "./ssh2.ts";

/** Where and how to log in. */
export interface SshTarget {
  /** Name used in errors and logs. */
  name: string;
  host: string;
  port: number;
  user: string;
  /** Private key file. */
  key?: string;
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Jump host to connect through. */
  jump?: SshTarget;
}

/** How host keys are checked. */
export type HostKeyPolicy = "strict" | "accept-new";

/** Connection tuning. */
export interface ConnectionOptions {
  /** Time for TCP connect + SSH handshake + auth, per attempt (default 10 s). */
  connectTimeoutMs?: number;
  /** Extra attempts after a network error (default 2). Auth and host-key errors are never retried. */
  retries?: number;
  /** First backoff pause, doubled per attempt (default 250 ms). */
  backoffMs?: number;
  /** Keepalive interval (default 5 s) and missed keepalives before the connection counts as lost (default 3). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /**
   * `strict` (default): the host key must be in known_hosts. `accept-new`: an unknown key is accepted, logged as a
   * warning and appended to known_hosts; a changed key is still refused.
   */
  hostKeys?: HostKeyPolicy;
  /** Receives connection events (reconnects, accepted keys). */
  log?: (level: "info" | "warn", message: string) => void;
}

const NET_RETRYABLE =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|ECONNABORTED|timed out|handshake/i;

function checkOptions(o: ConnectionOptions): void {
  const num = (field: keyof ConnectionOptions, ok: (v: number) => boolean, expected: string) => {
    const v = o[field];
    if (v !== undefined && !(typeof v === "number" && ok(v))) throw new InputError(field, expected, v);
  };
  num("connectTimeoutMs", (v) => v > 0 && Number.isFinite(v), "a positive number of milliseconds");
  num("retries", (v) => Number.isInteger(v) && v >= 0, "a whole number >= 0");
  num("backoffMs", (v) => v >= 0 && Number.isFinite(v), "a number of milliseconds >= 0");
  num("keepaliveIntervalMs", (v) => v >= 0 && Number.isFinite(v), "a number of milliseconds >= 0 (0 = off)");
  num("keepaliveCountMax", (v) => Number.isInteger(v) && v >= 1, "a whole number >= 1");
  if (o.hostKeys !== undefined && o.hostKeys !== "strict" && o.hostKeys !== "accept-new") {
    throw new InputError("hostKeys", '"strict" or "accept-new"', o.hostKeys);
  }
}

/** A lazily opened, automatically reopened SSH connection. */
export class SshConnection {
  readonly target: SshTarget;
  readonly options: Required<Omit<ConnectionOptions, "log">> & Pick<ConnectionOptions, "log">;
  #client?: Client;
  #connecting?: Promise<Client>;
  #jump?: SshConnection;
  #closed = false;
  #lostListeners = new Set<(err: RemoteError) => void>();
  /** How many times a connection was established (1 = never lost). */
  connects = 0;
  /**
   * Runs `fn` in one of the connection's command slots. OpenSSH allows 10 sessions per connection by default
   * (MaxSessions); user commands use at most 8 at once, so kills, checksums, SFTP and the agent always find one.
   */
  readonly commandSlot: <T>(fn: () => Promise<T>) => Promise<T> = pLimit(8);

  constructor(target: SshTarget, options: ConnectionOptions = {}) {
    checkOptions(options);
    this.target = target;
    this.options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      retries: options.retries ?? 2,
      backoffMs: options.backoffMs ?? 250,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 5_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      hostKeys: options.hostKeys ?? "strict",
      log: options.log,
    };
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Calls `fn` when the open connection is lost (not on close()). Returns an unsubscribe function. */
  onLost(fn: (err: RemoteError) => void): () => void {
    this.#lostListeners.add(fn);
    return () => this.#lostListeners.delete(fn);
  }

  /** The open client, connecting (with retries) when there is none. */
  client(signal?: AbortSignal): Promise<Client> {
    if (this.#closed) return Promise.reject(new RemoteError(this.target.name, "cancelled", "connection closed"));
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connectWithRetries(signal).finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  async #connectWithRetries(signal?: AbortSignal): Promise<Client> {
    let attempt = 0;
    while (true) {
      try {
        const c = await this.#connectOnce(signal);
        this.connects++;
        if (this.connects > 1) this.options.log?.("info", `node ${this.target.name}: reconnected`);
        return c;
      } catch (e) {
        const retryable = e instanceof RemoteError && e.retryable;
        if (!retryable || attempt >= this.options.retries || signal?.aborted || this.#closed) throw e;
        const pause = this.options.backoffMs * 2 ** attempt;
        this.options.log?.("warn", `${(e as Error).message}; retrying in ${pause} ms`);
        attempt++;
        await sleep(pause, undefined, { signal }).catch(() => {});
      }
    }
  }

  #readKey(): string | Buffer {
    const t = this.target;
    if (!t.key) {
      throw new RemoteError(t.name, "key-file", "no private key configured", {
        hint: "set `key:` for the node or under `defaults:` in the inventory",
      });
    }
    try {
      return readFileSync(t.key);
    } catch (e) {
      throw new RemoteError(t.name, "key-file", `cannot read private key ${t.key}: ${(e as Error).message}`, {
        hint: "check the inventory's `key:` path",
      });
    }
  }

  async #openSocket(signal?: AbortSignal): Promise<Duplex> {
    const t = this.target;
    if (t.jump) {
      this.#jump ??= new SshConnection(t.jump, this.options);
      const jc = await this.#jump.client(signal);
      return await new Promise<Duplex>((resolve, reject) => {
        jc.forwardOut("127.0.0.1", 0, t.host, t.port, (err, stream) => {
          if (err) {
            reject(
              new RemoteError(
                t.name,
                "unreachable",
                `jump host ${t.jump!.name} cannot reach ${t.host}:${t.port}: ${err.message}`,
                {
                  retryable: true,
                },
              ),
            );
          } else resolve(stream);
        });
      });
    }
    return await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({ host: t.host, port: t.port });
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(
          new RemoteError(
            t.name,
            "unreachable",
            `TCP connect to ${t.host}:${t.port} timed out after ${this.options.connectTimeoutMs} ms`,
            {
              retryable: true,
            },
          ),
        );
      }, this.options.connectTimeoutMs);
      sock.once("connect", () => {
        clearTimeout(timer);
        sock.setNoDelay(true);
        resolve(sock);
      });
      sock.once("error", (e: Error) => {
        clearTimeout(timer);
        reject(
          new RemoteError(t.name, "unreachable", `cannot connect to ${t.host}:${t.port}: ${e.message}`, {
            retryable: NET_RETRYABLE.test(e.message),
            cause: e,
          }),
        );
      });
    });
  }

  async #connectOnce(signal?: AbortSignal): Promise<Client> {
    const t = this.target;
    if (signal?.aborted) throw new CancelledError();
    const privateKey = this.#readKey();
    const knownHosts = new KnownHosts(t.knownHosts ?? join(homedir(), ".ssh", "known_hosts"));
    const sock = await this.#openSocket(signal);
    const client = newClient();
    let keyProblem: RemoteError | undefined;
    const hostVerifier = (key: Uint8Array, verify: (ok: boolean) => void) => {
      const verdict = knownHosts.check(t.host, t.port, key);
      if (verdict === "match") return verify(true);
      void fingerprint(key).then((fp) => {
        if (verdict === "unknown" && this.options.hostKeys === "accept-new") {
          knownHosts.add(t.host, t.port, key);
          this.options.log?.("warn", `node ${t.name}: accepted unknown host key ${fp} (hostKeys: accept-new)`);
          return verify(true);
        }
        const what = verdict === "unknown"
          ? `host key ${fp} of ${t.host}:${t.port} is not in ${knownHosts.path}`
          : verdict === "revoked"
          ? `host key ${fp} of ${t.host}:${t.port} is revoked in ${knownHosts.path}`
          : `host key ${fp} of ${t.host}:${t.port} does not match ${knownHosts.path} (possible man-in-the-middle)`;
        keyProblem = new RemoteError(t.name, "host-key", what, {
          hint: verdict === "unknown"
            ? 'add it with ssh-keyscan, or connect with hostKeys: "accept-new" (logged)'
            : "if the host was reinstalled, remove the old key from known_hosts",
        });
        verify(false);
      });
    };
    const types = knownHosts.keyTypes(t.host, t.port);
    const algorithms: ConnectConfig["algorithms"] = types.length
      ? {
        serverHostKey: types.flatMap((k) =>
          k === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [k]
        ) as never,
      }
      : undefined;
    return await new Promise<Client>((resolve, reject) => {
      let ready = false;
      const onAbort = () => {
        client.end();
        reject(new CancelledError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      client.once("ready", () => {
        ready = true;
        signal?.removeEventListener("abort", onAbort);
        this.#client = client;
        resolve(client);
      });
      client.on("error", (e: Error & { level?: string }) => {
        if (ready) return; // reported by close
        signal?.removeEventListener("abort", onAbort);
        if (keyProblem) return reject(keyProblem);
        if (e.level === "client-authentication") {
          return reject(
            new RemoteError(t.name, "auth", `authentication as ${t.user} failed (key ${t.key})`, {
              hint: "is the public key in the node's authorized_keys?",
            }),
          );
        }
        const timeout = e.level === "client-timeout";
        reject(
          new RemoteError(
            t.name,
            "unreachable",
            timeout
              ? `no SSH handshake from ${t.host}:${t.port} within ${this.options.connectTimeoutMs} ms`
              : `SSH connection to ${t.host}:${t.port} failed: ${e.message}`,
            { retryable: timeout || NET_RETRYABLE.test(e.message), cause: e },
          ),
        );
      });
      client.on("close", () => {
        if (!ready) {
          reject(
            keyProblem ??
              new RemoteError(t.name, "unreachable", `connection to ${t.host}:${t.port} closed during handshake`, {
                retryable: true,
              }),
          );
          return;
        }
        if (this.#client === client) this.#client = undefined;
        if (!this.#closed) {
          const err = new RemoteError(t.name, "connection-lost", `connection to ${t.host}:${t.port} lost`, {
            retryable: true,
          });
          this.options.log?.("warn", err.message);
          for (const fn of [...this.#lostListeners]) fn(err);
        }
      });
      try {
        client.connect({
          sock,
          username: t.user,
          privateKey,
          hostVerifier,
          readyTimeout: this.options.connectTimeoutMs,
          keepaliveInterval: this.options.keepaliveIntervalMs,
          keepaliveCountMax: this.options.keepaliveCountMax,
          algorithms,
        });
      } catch (e) {
        // ssh2 throws synchronously for unparsable keys.
        reject(new RemoteError(t.name, "key-file", `cannot use private key ${t.key}: ${(e as Error).message}`));
      }
    });
  }

  /** Commands running now (id → run under sudo), so a shutdown can kill their process groups. */
  readonly running = new Map<string, boolean>();
  /** Kills in progress; a shutdown waits for them before closing. */
  readonly pendingKills = new Set<Promise<void>>();

  /**
   * Kills the process groups of commands still running (best effort, bounded by `timeoutMs`), waits for kills in
   * progress, then closes. Use this rather than close() when commands may be running (end of a run, Ctrl-C).
   */
  async shutdown(kill: (ids: [string, boolean][]) => Promise<void>, timeoutMs = 5_000): Promise<void> {
    if (this.#client && this.running.size > 0) this.pendingKills.add(kill([...this.running]));
    if (this.pendingKills.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.pendingKills]),
        new Promise((r) => timer = setTimeout(r, timeoutMs)),
      ]);
      clearTimeout(timer);
    }
    this.close();
  }

  /** Closes the connection (and its jump connection) at once. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#client?.end();
    this.#client = undefined;
    this.#jump?.close();
  }

  /** Drops the current connection without closing for good (the next call reconnects). */
  drop(): void {
    const c = this.#client;
    this.#client = undefined;
    c?.end();
  }
}

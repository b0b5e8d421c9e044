/**
 * The ssh2 client, with minimal declarations of the parts hyperlab uses. (npm:@types/ssh2 drags in an old
 * @types/node that clashes with Deno's own node types, so it is not used.) The one place that imports ssh2.
 * @module
 */
import * as ssh2 from "ssh2";
import type { EventEmitter } from "node:events";
import type { Duplex, Readable, Writable } from "node:stream";

/** An exec channel: stdout is the stream itself, stderr a separate stream. */
export interface ClientChannel extends Duplex {
  stderr: Readable & Writable;
  close(): void;
  signal(name: string): void;
}

/** SFTP session (subset). */
export interface SFTPWrapper extends EventEmitter {
  fastPut(
    local: string,
    remote: string,
    opts: { mode?: number; concurrency?: number; chunkSize?: number },
    cb: (err?: Error | null) => void,
  ): void;
  fastGet(
    remote: string,
    local: string,
    opts: { concurrency?: number; chunkSize?: number },
    cb: (err?: Error | null) => void,
  ): void;
  ext_openssh_rename(from: string, to: string, cb: (err?: Error | null) => void): void;
  stat(path: string, cb: (err: Error | null | undefined, stats: { size: number }) => void): void;
  end(): void;
}

/** Connection settings (subset). */
export interface ConnectConfig {
  sock?: Duplex;
  host?: string;
  port?: number;
  username: string;
  privateKey?: string | Uint8Array;
  passphrase?: string;
  hostVerifier?: (key: Uint8Array, verify: (ok: boolean) => void) => void;
  readyTimeout?: number;
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  algorithms?: { serverHostKey?: string[] };
}

/** An SSH client connection (subset). */
export interface Client extends EventEmitter {
  connect(cfg: ConnectConfig): this;
  exec(command: string, cb: (err: Error | undefined, channel: ClientChannel) => void): boolean;
  sftp(cb: (err: Error | undefined, sftp: SFTPWrapper) => void): void;
  forwardOut(
    srcIP: string,
    srcPort: number,
    dstIP: string,
    dstPort: number,
    cb: (err: Error | undefined, ch: ClientChannel) => void,
  ): void;
  end(): this;
}

// deno-lint-ignore no-explicit-any
const mod = ((ssh2 as any).default ?? ssh2) as { Client: new () => Client };

/** Creates an unconnected ssh2 client. */
export function newClient(): Client {
  return new mod.Client();
}

/**
 * File transfer over SFTP with sha256 checks on both ends. Uploads go to a temporary name and are renamed into
 * place only when the remote checksum matches; downloads likewise. A node lost mid-transfer leaves no partial file
 * under the final name.
 * @module
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, copyFile, rename, rm } from "node:fs/promises";
import type { SshConnection } from "./connection.ts";
import { RemoteError } from "./errors.ts";
import { execCommand } from "./exec.ts";
import { shQuote } from "./quote.ts";
import type { SFTPWrapper } from "./ssh2.ts";

/** What a transfer reports. */
export interface TransferResult {
  node: string;
  bytes: number;
  sha256: string;
  durationMs: number;
}

/** sha256 of a local file (hex). */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Uint8Array);
  return h.digest("hex");
}

/** sha256 of a remote file (hex), through `sha256sum`. */
export async function remoteSha256(conn: SshConnection, path: string, timeoutMs = 120_000): Promise<string> {
  const r = await execCommand(conn, `sha256sum -- ${shQuote(path)}`, {
    timeout: timeoutMs,
    check: false,
    groupKill: false,
  });
  const m = /^([0-9a-f]{64})\s/.exec(r.stdout);
  if (r.exitCode !== 0 || !m) {
    throw new RemoteError(
      conn.target.name,
      "transfer",
      `cannot checksum ${path}: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
    );
  }
  return m[1];
}

function sftpOf(conn: SshConnection, signal?: AbortSignal): Promise<SFTPWrapper> {
  return conn.client(signal).then((c) =>
    new Promise<SFTPWrapper>((resolve, reject) =>
      c.sftp((err, sftp) =>
        err ? reject(new RemoteError(conn.target.name, "transfer", `cannot open SFTP: ${err.message}`)) : resolve(sftp)
      )
    )
  );
}

/** Runs an SFTP operation; rejects with a RemoteError naming the node when the connection is lost meanwhile. */
function guarded<T>(
  conn: SshConnection,
  what: string,
  op: (done: (err?: Error | null, v?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = conn.onLost((e) => {
      off();
      reject(
        new RemoteError(conn.target.name, "transfer", `${what} interrupted: ${e.message.replace(/^node \S+: /, "")}`),
      );
    });
    op((err, v) => {
      off();
      if (err) reject(new RemoteError(conn.target.name, "transfer", `${what} failed: ${err.message}`, { cause: err }));
      else resolve(v as T);
    });
  });
}

/** Uploads a local file; the remote file appears only after its checksum matched. */
export async function upload(
  conn: SshConnection,
  localPath: string,
  remotePath: string,
  opts: { mode?: number; signal?: AbortSignal } = {},
): Promise<TransferResult> {
  const started = performance.now();
  const [sum, sftp] = await Promise.all([sha256File(localPath), sftpOf(conn, opts.signal)]);
  const tmp = `${remotePath}.hl-part-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await guarded<void>(
      conn,
      `upload ${localPath} -> ${remotePath}`,
      (done) =>
        sftp.fastPut(
          localPath,
          tmp,
          { mode: opts.mode ?? 0o644, concurrency: 16, chunkSize: 64 * 1024 },
          (e) => done(e),
        ),
    );
    const remote = await remoteSha256(conn, tmp);
    if (remote !== sum) {
      throw new RemoteError(
        conn.target.name,
        "transfer",
        `checksum mismatch after upload of ${localPath}: local ${sum}, remote ${remote}`,
      );
    }
    await guarded<void>(conn, `rename ${tmp}`, (done) => sftp.ext_openssh_rename(tmp, remotePath, (e) => done(e)));
    const st = await guarded<{ size: number }>(
      conn,
      `stat ${remotePath}`,
      (done) => sftp.stat(remotePath, (e, s) => done(e, s)),
    );
    return { node: conn.target.name, bytes: st.size, sha256: sum, durationMs: performance.now() - started };
  } catch (e) {
    if (conn.connected) {
      await execCommand(conn, `rm -f -- ${shQuote(tmp)}`, { timeout: 5_000, check: false, groupKill: false }).catch(
        () => {},
      );
    }
    throw e;
  } finally {
    try {
      sftp.end();
    } catch { /* connection gone */ }
  }
}

/** Downloads a remote file; the local file appears only after its checksum matched the remote one. */
export async function download(
  conn: SshConnection,
  remotePath: string,
  localPath: string,
  opts: { signal?: AbortSignal } = {},
): Promise<TransferResult> {
  const started = performance.now();
  const tmp = `${localPath}.hl-part-${crypto.randomUUID().slice(0, 8)}`;
  const sftp = await sftpOf(conn, opts.signal);
  try {
    const remote = await remoteSha256(conn, remotePath);
    await guarded<void>(
      conn,
      `download ${remotePath} -> ${localPath}`,
      (done) => sftp.fastGet(remotePath, tmp, { concurrency: 16, chunkSize: 64 * 1024 }, (e) => done(e)),
    );
    const local = await sha256File(tmp);
    if (local !== remote) {
      throw new RemoteError(
        conn.target.name,
        "transfer",
        `checksum mismatch after download of ${remotePath}: remote ${remote}, local ${local}`,
      );
    }
    await rename(tmp, localPath);
    const size = (await Deno.stat(localPath)).size;
    return { node: conn.target.name, bytes: size, sha256: local, durationMs: performance.now() - started };
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    try {
      sftp.end();
    } catch { /* connection gone */ }
  }
}

/** The local node's "transfer": a copy with the same sha256 check and atomic rename. */
export async function copyLocal(node: string, from: string, to: string, mode?: number): Promise<TransferResult> {
  const started = performance.now();
  const tmp = `${to}.hl-part-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await copyFile(from, tmp);
    if (mode !== undefined) await chmod(tmp, mode);
    const [a, b] = await Promise.all([sha256File(from), sha256File(tmp)]);
    if (a !== b) throw new RemoteError(node, "transfer", `checksum mismatch copying ${from} to ${to}`);
    await rename(tmp, to);
    return { node, bytes: (await Deno.stat(to)).size, sha256: a, durationMs: performance.now() - started };
  } catch (e) {
    await rm(tmp, { force: true });
    if (e instanceof RemoteError) throw e;
    throw new RemoteError(node, "transfer", `copy ${from} -> ${to} failed: ${(e as Error).message}`);
  }
}

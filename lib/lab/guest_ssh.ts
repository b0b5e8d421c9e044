/**
 * Getting into a guest: its SSH endpoint in the shape of an inventory node (so the cluster layer can drive guests
 * like nodes), and a command runner built on the OpenSSH client (BatchMode, the generated key, an exact
 * known_hosts), independent of any SSH library.
 * @module
 */
import { MissingError, TimeoutError } from "../core/errors.ts";

/** How to reach a guest over SSH: the same fields an inventory node has. */
export interface GuestEndpoint {
  /** Guest name (unique within the run). */
  name: string;
  /** Always the loopback address of the machine running QEMU. */
  host: string;
  /** Host port forwarded to the guest's port 22. */
  port: number;
  /** Login user (root). */
  user: string;
  /** Path of the private key (OpenSSH format). */
  key: string;
  /** Path of a known_hosts file holding exactly this guest's host key at host:port. */
  knownHosts: string;
  /** The guest's public host key (`ssh-ed25519 AAAA…`). */
  hostKey: string;
}

/** What a command in the guest returned. */
export interface GuestExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The OpenSSH argv (without `ssh`) that runs `command` on `ep`. */
export function sshArgv(ep: GuestEndpoint, command: string, connectTimeoutS = 5): string[] {
  return [
    "-i",
    ep.key,
    "-p",
    String(ep.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${ep.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `ConnectTimeout=${connectTimeoutS}`,
    "-o",
    "LogLevel=ERROR",
    `${ep.user}@${ep.host}`,
    "--",
    command,
  ];
}

/**
 * Runs `command` (through the guest's /bin/sh) over SSH. Returns the exit code and output; exit code 255 is ssh's
 * own failure (connection, authentication). Throws TimeoutError after `timeoutMs` (the ssh process is killed).
 */
export async function sshExec(
  ep: GuestEndpoint,
  command: string,
  options: { timeoutMs?: number; signal?: AbortSignal; stdin?: string } = {},
): Promise<GuestExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("ssh", {
      args: sshArgv(ep, command),
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingError("ssh (OpenSSH client) is not installed", "apt-get install openssh-client");
    }
    throw e;
  }
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    w.write(new TextEncoder().encode(options.stdin)).then(() => w.close()).catch(() => {});
  }
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  options.signal?.addEventListener("abort", kill, { once: true });
  try {
    const out = await child.output();
    if (timedOut) throw new TimeoutError(`ssh ${ep.name}: ${command}`, timeoutMs);
    options.signal?.throwIfAborted();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", kill);
  }
}

/**
 * A long-running command whose stdin stays open (lkvm's console: the serial output stalls unless newlines keep
 * arriving). lib/remote runs commands with a fixed stdin, so this is a small adapter over the node's public
 * SshConnection (an ssh2 exec channel), or a local subprocess for a `local` node. Under `--dry-run` it records the
 * command and starts nothing.
 * @module
 */
import { effect } from "../core/ambient.ts";
import type { RemoteNode } from "../remote/mod.ts";
import { shQuote } from "../remote/mod.ts";

type SshClient = Awaited<ReturnType<RemoteNode["connection"]["client"]>>;
type ExecCallback = Parameters<SshClient["exec"]>[1];
type Channel = Parameters<ExecCallback>[1];

/** A running interactive command. */
export interface InteractiveProcess {
  /** Writes to its stdin (ignored after exit). */
  write(data: string): void;
  /** Resolves with the exit code (null when killed by a signal) once it ends. */
  readonly exited: Promise<number | null>;
  /** True once it ended. */
  readonly done: boolean;
  /** Stops it: closes stdin, kills its process group (TERM, then KILL), waits for the exit. Idempotent. */
  stop(): Promise<void>;
}

/** Options of startInteractive. */
export interface InteractiveOptions {
  /** Receives stdout and stderr text as it arrives. */
  onOutput: (text: string) => void;
  /** Kill through sudo (the command runs as root). */
  sudo?: boolean;
  /** Extra text shown in the plan after the command line. */
  planNote?: string;
}

/**
 * Starts `script` (a shell script) on `node` with an open stdin. The script runs under `/bin/sh -c` after its
 * process group id was recorded, so stop() can kill the whole group on the node.
 */
export function startInteractive(
  node: RemoteNode,
  script: string,
  opts: InteractiveOptions,
): Promise<InteractiveProcess> {
  const id = crypto.randomUUID();
  const pidFile = `/tmp/.hyperlab-interactive-${id}.pgid`;
  const line = `/bin/sh -c ${shQuote(script)}`;
  const wrapped = `echo $$ > ${pidFile}; exec ${line}`;
  const kill = `g=$(cat ${pidFile} 2>/dev/null) && { ${opts.sudo ? "sudo -n " : ""}kill -TERM -- -$g 2>/dev/null; ` +
    `sleep 0.5; ${opts.sudo ? "sudo -n " : ""}kill -KILL -- -$g 2>/dev/null; }; rm -f ${pidFile}; true`;
  return effect(
    { kind: "ssh", target: node.name, action: line + (opts.planNote ? `  # ${opts.planNote}` : "") },
    () => node.local ? startLocal(wrapped, kill, opts) : startRemote(node, wrapped, kill, opts),
    () => dryProcess(),
  );
}

function dryProcess(): InteractiveProcess {
  return { write() {}, exited: Promise.resolve(0), done: true, stop: () => Promise.resolve() };
}

async function startRemote(
  node: RemoteNode,
  wrapped: string,
  kill: string,
  opts: InteractiveOptions,
): Promise<InteractiveProcess> {
  const client = await node.connection.client();
  const ch = await new Promise<Channel>((resolve, reject) =>
    client.exec(wrapped, (err, channel) => err ? reject(err) : resolve(channel))
  );
  const dec = new TextDecoder();
  let done = false;
  let code: number | null = null;
  ch.on("data", (d: Uint8Array) => opts.onOutput(dec.decode(d, { stream: true })));
  ch.stderr.on("data", (d: Uint8Array) => opts.onOutput(new TextDecoder().decode(d)));
  ch.on("exit", (c: number | null) => code = c ?? null);
  const exited = new Promise<number | null>((resolve) =>
    ch.on("close", () => {
      done = true;
      resolve(code);
    })
  );
  return {
    write(data: string) {
      if (!done) ch.write(data);
    },
    exited,
    get done() {
      return done;
    },
    async stop() {
      if (done) return;
      await node.run({ cmd: kill }, { check: false, stream: false, timeout: 10_000 }).catch(() => {});
      try {
        ch.end();
      } catch { /* closed */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (!done) ch.close();
    },
  };
}

function startLocal(wrapped: string, kill: string, opts: InteractiveOptions): Promise<InteractiveProcess> {
  const child = new Deno.Command("/bin/setsid", {
    args: ["/bin/sh", "-c", wrapped],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const enc = new TextEncoder();
  let done = false;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) opts.onOutput(dec.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const exited = child.status.then(async (s) => {
    await pumps.catch(() => {});
    done = true;
    return s.signal ? null : s.code;
  });
  return Promise.resolve({
    write(data: string) {
      if (!done) writer.write(enc.encode(data)).catch(() => {});
    },
    exited,
    get done() {
      return done;
    },
    async stop() {
      if (done) return;
      await writer.close().catch(() => {});
      await new Deno.Command("/bin/sh", { args: ["-c", kill], stdout: "null", stderr: "null" }).output();
      await exited;
    },
  });
}

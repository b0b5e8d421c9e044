/**
 * Running one command over an SSH connection: the command runs in the process group sshd created for the session;
 * its group id goes to a pid file so a timeout, Ctrl-C or lost run can kill the whole group (no orphans).
 * @module
 */
import { CancelledError } from "../core/errors.ts";
import type { SshConnection } from "./connection.ts";
import { CommandError, RemoteError, RemoteTimeoutError } from "./errors.ts";
import { OutputCapture } from "./output.ts";
import { shQuote } from "./quote.ts";
import type { ClientChannel } from "./ssh2.ts";

/** Result of one command on one node. */
export interface CommandResult {
  node: string;
  /** Exit status; null when killed by a signal or never finished. */
  exitCode: number | null;
  signal?: string;
  /** Captured stdout (the tail when it exceeded the bound). */
  stdout: string;
  stderr: string;
  /** Total bytes produced, including any that were dropped. */
  stdoutBytes: number;
  stderrBytes: number;
  durationMs: number;
  /** True when the result is a `--dry-run` placeholder. */
  dryRun?: boolean;
}

/** Options of one execution. */
export interface ExecOptions {
  /** Kills the remote process group and fails after this many ms. */
  timeout?: number;
  /** Bytes written to the command's stdin (then EOF). */
  stdin?: string | Uint8Array;
  /** Aborting kills the remote process group. */
  signal?: AbortSignal;
  /** Each complete stdout/stderr line (bounded) as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Bytes of each stream kept in memory (tail), default 1 MiB. */
  maxOutputBytes?: number;
  /** The command ran under sudo, so killing needs sudo too. */
  sudo?: boolean;
  /** Throw CommandError on a non-zero exit (default true). */
  check?: boolean;
  /** Record the process group so timeouts and aborts kill it (default true; helper scripts pass false). */
  groupKill?: boolean;
  /**
   * The script the command line runs as `/bin/sh -c <script>`, when it is exactly that: a login shell that is
   * itself sh then runs the script in place (one process start fewer per command), any other delegates to /bin/sh.
   */
  script?: string;
}

/** Environment variable carrying a command's id into every process it starts, so a kill can find them. */
const MARK = "HYPERLAB_CMD";

/**
 * The script sent to the node: mark the command's processes with its id (an exported variable: builtins only, so
 * no process and no file beyond the command's own), run it, pass on its status. The trailing `exit` keeps the
 * shell, the session's process-group leader, alive while the command runs. With `script` (the command line is
 * `/bin/sh -c <script>`), a login shell named sh or dash evaluates the script itself instead of starting /bin/sh.
 */
export function wrapWithMarker(commandLine: string, id: string, script?: string): string {
  const run = script === undefined
    ? commandLine
    : `S=${shQuote(script)}; case $0 in sh|-sh|*/sh|dash|-dash|*/dash) eval "$S";; *) /bin/sh -c "$S";; esac`;
  return `export ${MARK}=${id}; ${run}; r=$?; exit $r`;
}

/**
 * Kills the process groups of the command `id` (TERM, then KILL), found in /proc: the wrapper shell by its command
 * line, the processes it started by their environment, so a command that already ended (or a reused pid) is never
 * hit. The pattern's parentheses keep the kill script and its grep from matching themselves; their own process
 * group is skipped as well. Runs only on timeouts, aborts and shutdown.
 */
export function killScript(id: string, sudo = false): string {
  // dash's kill builtin takes `kill -TERM -PGID` (no `--`); procps kill under sudo takes `-s TERM -- -PGID`.
  const k = (sig: string) => sudo ? `sudo -n /bin/kill -s ${sig} -- -$g` : `kill -${sig} -$g`;
  // the process group is the third field after "pid (comm)" in /proc/<pid>/stat
  const pgrp = (pid: string) => `s=$(cat /proc/${pid}/stat 2>/dev/null) && s=\${s##*) } && set -- $s && echo $3`;
  return `me=$(${pgrp("$$")}); ` +
    `G=$(for f in $(grep -l -a -E "${MARK}=(${id})" /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null); do ` +
    `p=\${f#/proc/}; p=\${p%%/*}; ${pgrp("$p")}; done | sort -u | grep -v -x "$me"); ` +
    `if [ -n "$G" ]; then for g in $G; do ${k("TERM")} 2>/dev/null; done; sleep 0.3; ` +
    `for g in $G; do ${k("KILL")} 2>/dev/null; done; fi; true`;
}

/**
 * Opens an exec channel. `attach` runs synchronously inside ssh2's callback: a fast command's exit status can
 * arrive in the same packet as the channel confirmation, and an `exit` event emitted before listeners exist is lost.
 */
export async function openExecChannel(
  conn: SshConnection,
  script: string,
  signal: AbortSignal | undefined,
  attach: (ch: ClientChannel) => void,
): Promise<ClientChannel> {
  // sshd refuses sessions beyond MaxSessions ("open failed") until closing ones are released: retry briefly.
  for (let attempt = 0;; attempt++) {
    const client = await conn.client(signal);
    const r = await new Promise<ClientChannel | Error>((resolve) => {
      try {
        client.exec(script, (err, ch) => {
          if (err) return resolve(err);
          attach(ch);
          resolve(ch);
        });
      } catch (e) {
        resolve(e as Error);
      }
    });
    if (!(r instanceof Error)) return r;
    if (/open failed/i.test(r.message) && attempt < 6 && !signal?.aborted) {
      await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
      continue;
    }
    throw new RemoteError(conn.target.name, "connection-lost", `cannot open a session: ${r.message}`, {
      retryable: true,
    });
  }
}

/** Kills a running command's remote process group; best effort (the node may be gone). */
export function killRemote(conn: SshConnection, id: string, sudo = false): Promise<void> {
  return killGroups(conn, [[id, sudo]]);
}

/** Kills several commands' process groups in one round trip; tracked so a shutdown waits for it. */
export function killGroups(conn: SshConnection, ids: [string, boolean][]): Promise<void> {
  if (!conn.connected || ids.length === 0) return Promise.resolve();
  const script = ids.map(([id, sudo]) => `( ${killScript(id, sudo)} ) &`).join(" ") + " wait";
  const p = execCommand(conn, script, { timeout: 5_000, check: false, groupKill: false }).then(
    () => {},
    () => {}, // node gone: nothing left to kill through this connection
  );
  conn.pendingKills.add(p);
  void p.finally(() => conn.pendingKills.delete(p));
  return p;
}

/**
 * Runs `commandLine` (already quoted, see quote.ts) on the connection's node. Throws RemoteTimeoutError,
 * CancelledError, RemoteError(connection-lost) or, with `check`, CommandError.
 */
export function execCommand(conn: SshConnection, commandLine: string, opts: ExecOptions = {}): Promise<CommandResult> {
  return opts.groupKill === false
    ? execOnChannel(conn, commandLine, opts)
    : conn.commandSlot(() => execOnChannel(conn, commandLine, opts));
}

async function execOnChannel(
  conn: SshConnection,
  commandLine: string,
  opts: ExecOptions,
): Promise<CommandResult> {
  const raw = opts.groupKill === false;
  const id = crypto.randomUUID();
  if (!raw) conn.running.set(id, !!opts.sudo);
  try {
    return await runOnChannel(conn, commandLine, opts, id, raw);
  } finally {
    conn.running.delete(id);
  }
}

async function runOnChannel(
  conn: SshConnection,
  commandLine: string,
  opts: ExecOptions,
  id: string,
  raw: boolean,
): Promise<CommandResult> {
  const node = conn.target.name;
  const script = raw ? commandLine : wrapWithMarker(commandLine, id, opts.script);
  const started = performance.now();
  const out = new OutputCapture({
    maxBytes: opts.maxOutputBytes,
    onLine: opts.onLine ? (l) => opts.onLine!(l, "stdout") : undefined,
  });
  const err = new OutputCapture({
    maxBytes: opts.maxOutputBytes,
    onLine: opts.onLine ? (l) => opts.onLine!(l, "stderr") : undefined,
  });
  if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new CancelledError();
  let exitCode: number | null = null;
  let exitSignal: string | undefined;
  let sawExit = false;
  const result = (): CommandResult => ({
    node,
    exitCode,
    signal: exitSignal,
    stdout: out.text(),
    stderr: err.text(),
    stdoutBytes: out.totalBytes,
    stderrBytes: err.totalBytes,
    durationMs: performance.now() - started,
  });

  let settle!: (v: "done" | RemoteError) => void;
  const finished = new Promise<"done" | RemoteError>((resolve) => settle = resolve);
  const attach = (ch: ClientChannel) => {
    ch.on("data", (d: Uint8Array) => out.push(d));
    ch.stderr.on("data", (d: Uint8Array) => err.push(d));
    ch.on("exit", (code: number | null, sig?: string) => {
      sawExit = true;
      exitCode = code ?? null;
      exitSignal = sig ?? undefined;
    });
    const off = conn.onLost((e) => {
      off();
      settle(e);
    });
    ch.on("close", () => {
      off();
      settle(
        sawExit
          ? "done"
          : new RemoteError(node, "connection-lost", "session closed before the command exited", { retryable: true }),
      );
    });
  };
  const ch = await openExecChannel(conn, script, opts.signal, attach);

  if (opts.stdin !== undefined) ch.end(opts.stdin);
  else ch.end();

  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<"timeout" | "abort">((resolve) => {
    if (opts.timeout !== undefined) timer = setTimeout(() => resolve("timeout"), opts.timeout);
    onAbort = () => resolve("abort");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
  const how = await Promise.race([finished, interrupted]);
  clearTimeout(timer);
  if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
  if (how === "timeout" || how === "abort") {
    if (!raw) await killRemote(conn, id, opts.sudo);
    try {
      ch.close();
    } catch { /* already closed */ }
    out.end();
    err.end();
    if (how === "timeout") {
      throw new RemoteTimeoutError(node, `command ${commandLine.slice(0, 120)}`, opts.timeout!, err.tail(400));
    }
    throw opts.signal?.reason instanceof Error ? opts.signal.reason : new CancelledError();
  }
  out.end();
  err.end();
  if (how instanceof RemoteError) {
    const tail = err.tail(400).trim();
    throw new RemoteError(
      node,
      "connection-lost",
      `${how.message.replace(/^node \S+: /, "")} while running: ${commandLine.slice(0, 120)}${
        tail ? `\n  stderr: ${tail}` : ""
      }`,
      { retryable: true },
    );
  }
  const r = result();
  if (opts.check !== false && r.exitCode !== 0) {
    throw Object.assign(new CommandError(node, commandLine, r.exitCode, r.signal, err.tail(2000)), { result: r });
  }
  return r;
}

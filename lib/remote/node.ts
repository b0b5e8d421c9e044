/**
 * A node as playbooks use it: `node.run(argv | {cmd}, options)`, file transfer with checksums, all over one
 * persistent SSH connection (or in-process for the local node). Side effects go through `effect`, so `--dry-run`
 * records `{kind: "ssh", target: node, action: commandLine}` instead of acting.
 * @module
 */
import { currentRun, effect } from "../core/ambient.ts";
import type { NodeSpec } from "../inventory/mod.ts";
import { type ConnectionOptions, SshConnection, type SshTarget } from "./connection.ts";
import { type CommandResult, execCommand, killGroups } from "./exec.ts";
import { execLocal } from "./local_exec.ts";
import { buildCommandLine, buildScript, type Command, type CommandLineOptions } from "./quote.ts";
import { copyLocal, download, type TransferResult, upload } from "./transfer.ts";
import { type Agent, LocalAgent, RemoteAgent, type RemoteAgentOptions } from "./agent_client.ts";
import type { HostFacts } from "./host_facts.ts";
import { NodePower } from "../ipmi/mod.ts";
import { InputError } from "../core/errors.ts";

/** Options of `node.run`. */
export interface NodeRunOptions extends CommandLineOptions {
  /** Kill the remote process group and fail after this many ms. */
  timeout?: number;
  /** Bytes for the command's stdin. */
  stdin?: string | Uint8Array;
  /** Aborting kills the remote command (the run's signal is always honoured too). */
  signal?: AbortSignal;
  /** Throw CommandError on a non-zero exit (default true). */
  check?: boolean;
  /**
   * Stream output lines prefixed by the node name: into the run log (source = node) inside a run, to the console
   * outside one. Default true.
   */
  stream?: boolean;
  /** Bytes of each stream kept in memory (the tail), default 1 MiB. */
  maxOutputBytes?: number;
}

/** Converts a node spec into an SSH target (jump hosts included). */
export function targetOf(spec: NodeSpec): SshTarget {
  const toJump = (j: NonNullable<NodeSpec["jump"]>): SshTarget => ({
    name: j.name,
    host: j.host,
    port: j.port,
    user: j.user,
    key: j.key,
    knownHosts: spec.knownHosts,
    jump: j.jump ? toJump(j.jump) : undefined,
  });
  return {
    name: spec.name,
    host: spec.host,
    port: spec.port,
    user: spec.user,
    key: spec.key,
    knownHosts: spec.knownHosts,
    jump: spec.jump ? toJump(spec.jump) : undefined,
  };
}

/** Rejects option values that would silently misbehave (negative timeouts, strings for numbers). */
function checkRunOptions(o: NodeRunOptions): void {
  if (o.timeout !== undefined && !(typeof o.timeout === "number" && o.timeout > 0 && Number.isFinite(o.timeout))) {
    throw new InputError("timeout", "a positive number of milliseconds", o.timeout);
  }
  if (o.maxOutputBytes !== undefined && !(Number.isInteger(o.maxOutputBytes) && o.maxOutputBytes > 0)) {
    throw new InputError("maxOutputBytes", "a positive integer", o.maxOutputBytes);
  }
  if (o.stdin !== undefined && typeof o.stdin !== "string" && !(o.stdin instanceof Uint8Array)) {
    throw new InputError("stdin", "a string or Uint8Array", o.stdin);
  }
}

function combine(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const s = signals.filter((x): x is AbortSignal => x !== undefined);
  return s.length === 0 ? undefined : s.length === 1 ? s[0] : AbortSignal.any(s);
}

/** One node of an inventory, reachable over SSH (or locally). */
export class RemoteNode {
  readonly spec: NodeSpec;
  readonly connection: SshConnection;
  #agent?: Agent;
  #facts = new WeakMap<object, Promise<HostFacts>>();

  /** Chassis power and SOL console through the node's BMC (inventory `ipmi:`). */
  readonly power: NodePower;

  /** `ipmiPassword` returns the node's BMC password (the Cluster passes the inventory's). */
  constructor(spec: NodeSpec, options: ConnectionOptions = {}, ipmiPassword?: (node: string) => string) {
    this.spec = spec;
    this.power = new NodePower(spec.name, () => {
      if (!spec.ipmi) {
        throw new InputError(`node "${spec.name}" ipmi`, "an IPMI endpoint in the inventory (host, user, password)");
      }
      if (!ipmiPassword) {
        throw new InputError(`node "${spec.name}" ipmi.password`, "a password (create nodes through a Cluster)");
      }
      return { node: spec.name, endpoint: spec.ipmi, password: ipmiPassword(spec.name) };
    });
    const owner = currentRun();
    this.connection = new SshConnection(targetOf(spec), {
      ...options,
      log: options.log ?? ((level, msg) => {
        const run = currentRun() ?? owner;
        if (run) run.log.log(level, msg, spec.name);
        else if (level === "warn") console.error(`hyperlab: ${msg}`);
      }),
    });
  }

  /** The node's inventory name. */
  get name(): string {
    return this.spec.name;
  }

  /** True for the controller's own machine (commands run in-process, no SSH). */
  get local(): boolean {
    return this.spec.local;
  }

  /**
   * Runs a command: an argv array (each element quoted) or `{ cmd }` (a shell script), through `/bin/sh -c`.
   * Resolves with exit code, output and duration; throws CommandError (non-zero exit, with stderr tail) unless
   * `check: false`, RemoteTimeoutError after `timeout`, RemoteError when the node is unreachable or lost.
   */
  run(command: Command, opts: NodeRunOptions = {}): Promise<CommandResult> {
    checkRunOptions(opts);
    const line = buildCommandLine(command, opts);
    // without sudo the line is `/bin/sh -c <script>`: a POSIX sh login shell may run the script itself
    const script = opts.sudo ? undefined : buildScript(command, opts);
    return effect(
      { kind: "ssh", target: this.name, action: line },
      () => this.#exec(line, opts, script),
      () => ({
        node: this.name,
        exitCode: 0,
        stdout: "",
        stderr: "",
        stdoutBytes: 0,
        stderrBytes: 0,
        durationMs: 0,
        dryRun: true,
      }),
    );
  }

  #exec(line: string, opts: NodeRunOptions, script?: string): Promise<CommandResult> {
    const run = currentRun();
    const stream = opts.stream ?? true;
    const onLine = !stream
      ? undefined
      : run
      ? (l: string, s: "stdout" | "stderr") => run.log.log(s === "stdout" ? "info" : "warn", l, this.name)
      : (l: string, s: "stdout" | "stderr") => (s === "stdout" ? console.log : console.error)(`${this.name} | ${l}`);
    const o = {
      timeout: opts.timeout,
      stdin: opts.stdin,
      signal: combine(opts.signal, run?.signal),
      check: opts.check,
      maxOutputBytes: opts.maxOutputBytes,
      sudo: opts.sudo,
      script,
      onLine,
    };
    return this.local ? execLocal(this.name, line, o) : execCommand(this.connection, line, o);
  }

  /** Uploads a file (SFTP, sha256-checked, atomically renamed into place). */
  upload(
    localPath: string,
    remotePath: string,
    opts: { mode?: number; signal?: AbortSignal } = {},
  ): Promise<TransferResult> {
    return effect(
      { kind: "file", target: this.name, action: `upload ${localPath} -> ${remotePath}` },
      () =>
        this.local
          ? copyLocal(this.name, localPath, remotePath, opts.mode)
          : upload(this.connection, localPath, remotePath, {
            ...opts,
            signal: combine(opts.signal, currentRun()?.signal),
          }),
      () => ({ node: this.name, bytes: 0, sha256: "", durationMs: 0 }),
    );
  }

  /** Downloads a file (SFTP, sha256-checked, atomically renamed into place). */
  download(remotePath: string, localPath: string, opts: { signal?: AbortSignal } = {}): Promise<TransferResult> {
    return effect(
      { kind: "file", target: this.name, action: `download ${remotePath} -> ${localPath}` },
      () =>
        this.local
          ? copyLocal(this.name, remotePath, localPath)
          : download(this.connection, remotePath, localPath, { signal: combine(opts.signal, currentRun()?.signal) }),
      () => ({ node: this.name, bytes: 0, sha256: "", durationMs: 0 }),
    );
  }

  /**
   * The node agent (started on first use: installs Deno and the project source on the node when missing, cached by
   * content hash). For the local node, an in-process agent. Agent calls are queries and run under `--dry-run` too.
   */
  agent(opts: RemoteAgentOptions = {}): Agent {
    this.#agent ??= this.local ? new LocalAgent(this.name) : new RemoteAgent(this.connection, opts);
    return this.#agent;
  }

  /**
   * Host facts (OS, kernel, CPUs, NUMA, memory, KVM/Xen/RDMA presence) gathered by the node agent, cached per run
   * and stored in the run record (`ctx.facts`).
   */
  facts(): Promise<HostFacts> {
    const run = currentRun();
    const key = run ?? this;
    let p = this.#facts.get(key);
    if (!p) {
      p = this.agent().call("hostFacts", {}).then((f) => {
        run?.facts(this.name, f);
        return f;
      });
      p.catch(() => this.#facts.delete(key));
      this.#facts.set(key, p);
    }
    return p;
  }

  /** Opens the connection now (otherwise it opens on first use). */
  async connect(signal?: AbortSignal): Promise<void> {
    if (!this.local) await this.connection.client(signal);
  }

  /** Kills commands still running on the node (their process groups), then closes. */
  async shutdown(timeoutMs = 5_000): Promise<void> {
    this.#agent?.close();
    await this.connection.shutdown((ids) => killGroups(this.connection, ids), timeoutMs);
  }

  /** Closes the connection at once (running commands are not killed: see shutdown). Idempotent. */
  close(): void {
    this.#agent?.close();
    this.connection.close();
  }
}

/**
 * Guests started on a lab node, through the node's command runner (the cluster layer's SSH runner, or
 * {@link localNodeRunner}): the image is built here and uploaded once into the node's cache, QEMU runs daemonized
 * there with its console in a file and QMP on the node's loopback, commands reach the guest with the node's OpenSSH
 * client, and QMP goes through a small bash client on the node (`/dev/tcp`, no extra package). This is what
 * multi-node boot experiments use. QMP therefore listens on the node's 127.0.0.1 (a random port): other local users
 * of a shared node could reach it. Unlike local guests, node guests outlive their controller until stopped (run
 * cleanup, `stop()`, or `attachNodeGuest(...).stop()`).
 * @module
 */
import { effect } from "../core/ambient.ts";
import { HyperlabError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import { GuestExitedError } from "./guest_errors.ts";
import { type GuestEndpoint, type GuestExecResult, sshArgv } from "./guest_ssh.ts";
import type { AccelDecision } from "./qemu_accel.ts";
import { type GuestOptions, parseGuestOptions } from "./qemu_options.ts";
import { Qmp, type QmpTransport } from "./qmp_commands.ts";
import { QmpError } from "./qmp_types.ts";

/** What a command on a node returned. */
export interface NodeRunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A lab node as far as guests need it: a name and a way to run a command there (argv, optional stdin). */
export interface NodeRunner {
  readonly name: string;
  run(argv: string[], options?: { stdin?: Uint8Array; timeoutMs?: number }): Promise<NodeRunResult>;
}

/** An endpoint of a guest on a node: reachable from that node (`via`), not from the controller. */
export interface NodeGuestEndpoint extends GuestEndpoint {
  /** Name of the node whose loopback the port forward listens on; key and knownHosts are paths there. */
  via: string;
}

const QMP_SHELL_CLIENT = `exec 3<>/dev/tcp/127.0.0.1/"$1" || exit 3
read -r greeting <&3
printf '%s\\n' '{"execute":"qmp_capabilities","id":"hl-caps"}' >&3
read -r caps <&3
printf '%s\\n' "$2" >&3
while read -r line <&3; do
  case "$line" in *'"id": "hl"'*|*'"id":"hl"'*) printf '%s\\n' "$line"; exit 0;; esac
done
exit 4`;

/** A node guest's identity, saved by one process and re-attached by another with {@link attachNodeGuest}. */
export interface NodeGuestState {
  node: string;
  options: GuestOptions;
  accel: AccelDecision;
  argv: string[];
  pid: number;
  dir: string;
  qmpPort: number;
  endpoint: NodeGuestEndpoint | null;
}

/** A guest running on a lab node. Create with `startGuestOnNode` (guest_node_start.ts). */
export class NodeGuest implements AsyncDisposable {
  readonly name: string;
  readonly node: NodeRunner;
  readonly options: GuestOptions;
  readonly accel: AccelDecision;
  /** QEMU command line as run on the node. */
  readonly argv: string[];
  /** QEMU's pid on the node (0 when planned). */
  readonly pid: number;
  /** Runtime directory on the node. */
  readonly dir: string;
  /** Typed QMP commands (through the node). */
  readonly qmp: Qmp;
  /** Endpoint of the guest, reachable from the node. */
  readonly endpoint: NodeGuestEndpoint | null;
  readonly #qmpPort: number;
  #console = "";
  #consoleBytes = 0;
  #stopped = false;
  #qmpChain: Promise<unknown> = Promise.resolve();

  /** @internal Use startGuestOnNode. */
  constructor(init: {
    node: NodeRunner;
    options: GuestOptions;
    accel: AccelDecision;
    argv: string[];
    pid: number;
    dir: string;
    qmpPort: number;
    endpoint: NodeGuestEndpoint | null;
  }) {
    this.name = init.options.name;
    this.node = init.node;
    this.options = init.options;
    this.accel = init.accel;
    this.argv = init.argv;
    this.pid = init.pid;
    this.dir = init.dir;
    this.endpoint = init.endpoint;
    this.#qmpPort = init.qmpPort;
    const transport: QmpTransport = { execute: (c, a, o) => this.#qmpExecute(c, a, o?.timeoutMs) };
    this.qmp = new Qmp(init.pid ? transport : null, `${init.node.name}/${init.options.name}`);
  }

  /** True while this guest's QEMU runs on the node (the pid is checked against its command line, not reused). */
  async running(): Promise<boolean> {
    if (!this.pid) return false;
    const r = await this.node.run([
      "/bin/sh",
      "-c",
      `tr '\\0' ' ' < /proc/"$1"/cmdline 2>/dev/null | grep -qF -- "$2"`,
      "running",
      String(this.pid),
      `${this.dir}/`,
    ]);
    return r.code === 0;
  }

  /** What another process needs to re-attach to this guest (e.g. `lab down` after `lab up`); JSON-safe. */
  state(): NodeGuestState {
    return {
      node: this.node.name,
      options: this.options,
      accel: this.accel,
      argv: this.argv,
      pid: this.pid,
      dir: this.dir,
      qmpPort: this.#qmpPort,
      endpoint: this.endpoint,
    };
  }

  /** The console so far (fetched incrementally from the node). */
  async consoleText(): Promise<string> {
    if (!this.pid) return "";
    const r = await this.node.run(["tail", "-c", `+${this.#consoleBytes + 1}`, `${this.dir}/console.log`]);
    if (r.code === 0 && r.stdout) {
      this.#console += r.stdout.replaceAll("\r", "");
      this.#consoleBytes += new TextEncoder().encode(r.stdout).length;
    }
    return this.#console;
  }

  /** Waits for `re` on the console (polling the node); times out with the console tail, fails when QEMU is gone. */
  waitFor(re: RegExp, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<RegExpExecArray> {
    return effect(
      { kind: "qemu", target: `${this.node.name}/${this.name}`, action: `wait for console ${re}` },
      async () => {
        const timeoutMs = options.timeoutMs ?? 60_000;
        const deadline = Date.now() + timeoutMs;
        while (true) {
          const m = new RegExp(re.source, re.flags.replace("g", "")).exec(await this.consoleText());
          if (m) return m;
          const tail = this.#console.split("\n").slice(-25).join("\n").trimEnd();
          if (!await this.running()) {
            throw new GuestExitedError(`${this.node.name}/${this.name}`, null, null, `console tail:\n${tail}`);
          }
          if (Date.now() > deadline) {
            throw new TimeoutError(
              `guest ${this.node.name}/${this.name}: waiting for ${re}`,
              timeoutMs,
              `console tail:\n${tail}`,
            );
          }
          await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
        }
      },
      () => Object.assign([""], { index: 0, input: "" }) as RegExpExecArray,
    );
  }

  /** Runs `command` in the guest over SSH from the node. */
  exec(command: string, options: { timeoutMs?: number } = {}): Promise<GuestExecResult> {
    return effect(
      { kind: "ssh", target: `${this.node.name}/${this.name}`, action: command },
      () => {
        if (!this.endpoint) throw new MissingError(`guest ${this.name} on ${this.node.name} has no SSH endpoint`);
        return this.node.run(["ssh", ...sshArgv(this.endpoint, command)], options);
      },
      () => ({ code: 0, stdout: "", stderr: "" }),
    );
  }

  /** Stops QEMU on the node (QMP quit, then SIGKILL) and removes its runtime directory. Idempotent. */
  async stop(): Promise<void> {
    if (!this.pid || this.#stopped) return;
    this.#stopped = true;
    await this.#qmpExecute("quit", undefined, 3000).catch(() => {});
    for (let i = 0; i < 30 && await this.running(); i++) await new Promise((r) => setTimeout(r, 100));
    if (await this.running()) await this.node.run(["kill", "-9", String(this.pid)]);
    if (!this.dir.startsWith("/") || this.dir.split("/").filter(Boolean).length < 2) return; // never rm a root
    await this.node.run(["rm", "-rf", this.dir]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #qmpExecute<T>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const msg = JSON.stringify(
      args === undefined ? { execute: command, id: "hl" } : { execute: command, arguments: args, id: "hl" },
    );
    const secs = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const call = this.#qmpChain.catch(() => {}).then(async () => {
      const r = await this.node.run([
        "timeout",
        secs,
        "bash",
        "-c",
        QMP_SHELL_CLIENT,
        "qmp",
        String(this.#qmpPort),
        msg,
      ]);
      if (r.code === 124) throw new TimeoutError(`QMP ${command} on ${this.node.name}/${this.name}`, timeoutMs);
      if (r.code !== 0 || !r.stdout.trim()) {
        throw new HyperlabError("qmp", `QMP ${command} on ${this.node.name}/${this.name}: no answer (exit ${r.code})`);
      }
      const reply = JSON.parse(r.stdout.trim().split("\n").pop()!);
      if (reply.error) throw new QmpError(command, reply.error.class ?? "UnknownError", reply.error.desc ?? "");
      return reply.return as T;
    });
    this.#qmpChain = call;
    return call;
  }
}

/**
 * Re-attaches to a guest started earlier (possibly by another process) from its saved state. The guest keeps
 * running until `stop()`; attaching does not register run cleanup (the guest belongs to whoever started it).
 */
export function attachNodeGuest(node: NodeRunner, state: NodeGuestState): NodeGuest {
  if (typeof node?.run !== "function") throw new InputError("node", "a node runner { name, run(argv) }", node);
  if (state?.node !== node.name) {
    throw new InputError("state.node", `the node it was started on (${state?.node})`, node.name);
  }
  if (!Number.isInteger(state.pid) || state.pid <= 0) throw new InputError("state.pid", "a process id", state.pid);
  if (typeof state.dir !== "string" || !/^\/.+\/hyperlab-/.test(state.dir)) {
    throw new InputError("state.dir", "a hyperlab runtime directory", state.dir);
  }
  if (!Number.isInteger(state.qmpPort) || state.qmpPort <= 0) {
    throw new InputError("state.qmpPort", "a port", state.qmpPort);
  }
  return new NodeGuest({ ...state, node, options: parseGuestOptions(state.options) });
}

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
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { currentRun, effect } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { formatError, HyperlabError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { type StartGuestOptions, StartOptionsSchema } from "./guest.ts";
import { GuestExitedError, QemuStartError } from "./guest_errors.ts";
import { knownHostsLine } from "./guest_keys.ts";
import { type GuestEndpoint, type GuestExecResult, sshArgv } from "./guest_ssh.ts";
import { buildGuestImage, type GuestImage, SSH_READY_MARKER, USERSPACE_MARKER } from "./image_guest.ts";
import { type AccelDecision, KVM_PROBE_TIMEOUT_MS, kvmProbeArgv, PROBE_MARKER, probeInitramfs } from "./qemu_accel.ts";
import { buildQemuArgv, QEMU_BINARY } from "./qemu_argv.ts";
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

/** Where things go on the node. */
export interface NodePaths {
  /** Upload cache (kernels, initramfs, keys), default /var/tmp/hyperlab-cache. */
  cacheDir?: string;
  /** Parent of per-guest runtime directories, default /tmp. */
  runRoot?: string;
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

const accelByNode = new Map<string, Promise<AccelDecision>>();

function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 40000);
}

function sha(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex").slice(0, 16);
}

async function runOk(node: NodeRunner, argv: string[], what: string, options?: { stdin?: Uint8Array }) {
  const r = await node.run(argv, options);
  if (r.code !== 0) {
    throw new HyperlabError(
      "node",
      `node ${node.name}: ${what} failed (exit ${r.code}): ${r.stderr.trim().slice(-500)}`,
    );
  }
  return r;
}

/** Copies local bytes to `path` on the node unless a non-empty file is already there. */
async function upload(node: NodeRunner, path: string, data: () => Promise<Uint8Array>, mode = "644"): Promise<void> {
  if ((await node.run(["test", "-s", path])).code === 0) return;
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  await runOk(
    node,
    [
      "/bin/sh",
      "-c",
      `mkdir -p "$1" && cat > "$2.tmp.$$" && chmod ${mode} "$2.tmp.$$" && mv "$2.tmp.$$" "$2"`,
      "upload",
      dir,
      path,
    ],
    `upload of ${path}`,
    { stdin: await data() },
  );
}

async function nodeAccel(node: NodeRunner, requested: GuestOptions["accel"], img: GuestImage, cache: string) {
  if (requested !== "auto") return { accel: requested, reason: "requested" } as AccelDecision;
  let p = accelByNode.get(node.name);
  if (!p) {
    p = (async (): Promise<AccelDecision> => {
      if ((await node.run(["test", "-w", "/dev/kvm"])).code !== 0) {
        return { accel: "tcg", reason: "no usable /dev/kvm" };
      }
      const probe = await probeInitramfs();
      const remoteProbe = `${cache}/${sha(await readFile(probe))}.probe.cpio.gz`;
      await upload(node, remoteProbe, () => readFile(probe));
      const kernel = `${cache}/${img.kernel.package}_${img.kernel.debVersion}.vmlinux`;
      const secs = String(Math.ceil(KVM_PROBE_TIMEOUT_MS / 1000));
      const r = await node.run(["timeout", "-s", "KILL", secs, QEMU_BINARY, ...kvmProbeArgv(kernel, remoteProbe)]);
      return r.stdout.includes(PROBE_MARKER)
        ? { accel: "kvm", reason: `KVM probe on ${node.name} reached userspace` }
        : { accel: "tcg", reason: `KVM probe on ${node.name}: no userspace within ${secs} s` };
    })();
    accelByNode.set(node.name, p);
  }
  return await p;
}

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

/** A guest running on a lab node. Create with {@link startGuestOnNode}. */
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
 * Starts a guest on `node`: checks QEMU and bash there, uploads the kernel, initramfs and client key into the
 * node's cache (once), starts QEMU daemonized, and waits as `waitUntil` says. Inside a run the guest is stopped by
 * the run's deferred cleanup.
 */
export async function startGuestOnNode(
  node: NodeRunner,
  input: StartGuestOptions = {},
  paths: NodePaths = {},
): Promise<NodeGuest> {
  if (typeof node?.run !== "function" || typeof node?.name !== "string") {
    throw new InputError("node", "a node runner { name, run(argv) }", node);
  }
  const { image, bootTimeoutMs, waitUntil, kernelFormat, consoleFile, ...machine } = input;
  const start = parseOrThrow(
    StartOptionsSchema,
    { image, bootTimeoutMs, waitUntil, kernelFormat, consoleFile },
    "startGuestOnNode",
  );
  const options = parseGuestOptions(machine);
  const net = options.network.enabled;
  const until = start.waitUntil ?? (net ? "ssh" : "userspace");
  if (until === "ssh" && !net) {
    throw new InputError("waitUntil", '"userspace" or "started" when network.enabled is false', "ssh");
  }
  const cache = paths.cacheDir ?? "/var/tmp/hyperlab-cache";
  const run = currentRun();
  const target = `${node.name}/${options.name}`;

  if (run?.dryRun) {
    const argv = [
      QEMU_BINARY,
      ...buildQemuArgv(options, {
        kernel: `${cache}/<kernel>.vmlinux`,
        initrd: `${cache}/<initramfs>.cpio.gz`,
        qmpSocket: "",
        qmpTcpPort: 0,
        consoleFile: "<rundir>/console.log",
        sshPort: 0,
        forwardPorts: options.network.forwards.map(() => 0),
        accel: options.accel === "kvm" ? "kvm" : "tcg",
      }),
      "-daemonize",
    ];
    run.plan({ kind: "qemu", target, action: argv.join(" ") });
    return new NodeGuest({
      node,
      options,
      accel: { accel: "tcg", reason: "dry run" },
      argv,
      pid: 0,
      dir: "",
      qmpPort: 0,
      endpoint: null,
    });
  }

  const tools = await node.run(["/bin/sh", "-c", `command -v ${QEMU_BINARY} >/dev/null && command -v bash >/dev/null`]);
  if (tools.code !== 0) {
    throw new MissingError(
      `${QEMU_BINARY} (and bash) must be installed on node ${node.name}`,
      `on ${node.name}: apt-get install qemu-system-x86`,
    );
  }
  const img = await buildGuestImage(start.image ?? {});
  const useElf = start.kernelFormat === "vmlinux" && img.kernel.vmlinux;
  const kernelPath = `${cache}/${img.kernel.package}_${img.kernel.debVersion}.${useElf ? "vmlinux" : "vmlinuz"}`;
  const initrdPath = `${cache}/${img.initramfs.hash}.cpio.gz`;
  const keyPath = `${cache}/guest-key-${sha(img.keys.clientPublic)}`;
  await upload(node, kernelPath, () => readFile(useElf ? img.kernel.vmlinux! : img.kernel.vmlinuz));
  await upload(node, initrdPath, () => readFile(img.initramfs.path));
  await upload(node, keyPath, () => readFile(img.keys.clientKey), "600");
  const accel = await nodeAccel(node, options.accel, img, cache);
  run?.log.info(`guest ${target}: accel ${accel.accel} (${accel.reason})`, `guest:${target}`);

  for (let attempt = 1;; attempt++) {
    const dir =
      (await runOk(node, ["mktemp", "-d", `${paths.runRoot ?? "/tmp"}/hyperlab-${options.name}-XXXXXX`], "mktemp"))
        .stdout.trim();
    const sshPort = net ? options.network.sshPort ?? randomPort() : undefined;
    const qmpPort = randomPort();
    const argv = [
      QEMU_BINARY,
      ...buildQemuArgv(options, {
        kernel: kernelPath,
        initrd: initrdPath,
        qmpSocket: "",
        qmpTcpPort: qmpPort,
        consoleFile: `${dir}/console.log`,
        sshPort,
        forwardPorts: options.network.forwards.map((f) => f.hostPort ?? randomPort()),
        accel: accel.accel,
      }),
      "-daemonize",
      "-pidfile",
      `${dir}/qemu.pid`,
    ];
    let endpoint: NodeGuestEndpoint | null = null;
    if (sshPort) {
      const knownHosts = `${dir}/known_hosts`;
      await runOk(node, ["/bin/sh", "-c", `cat > "$1"`, "kh", knownHosts], "known_hosts", {
        stdin: new TextEncoder().encode(knownHostsLine(img.keys, "127.0.0.1", sshPort)),
      });
      endpoint = {
        name: options.name,
        host: "127.0.0.1",
        port: sshPort,
        user: "root",
        key: keyPath,
        knownHosts,
        hostKey: img.keys.hostPublic,
        via: node.name,
      };
    }
    run?.plan({ kind: "qemu", target, action: argv.join(" ") });
    const r = await node.run(argv, { timeoutMs: 60_000 });
    if (r.code !== 0) {
      await node.run(["rm", "-rf", dir]);
      const err = new QemuStartError(target, r.code, r.stderr);
      const autoPorts = !options.network.sshPort && options.network.forwards.every((f) => !f.hostPort);
      if (
        /host forwarding rule|Address already in use/i.test(r.stderr) &&
        (autoPorts || /tcp:127.0.0.1:\d+,server/.test(r.stderr)) && attempt < 3
      ) continue;
      throw err;
    }
    const pid = Number((await runOk(node, ["cat", `${dir}/qemu.pid`], "reading the QEMU pid")).stdout.trim());
    const guest = new NodeGuest({ node, options, accel, argv, pid, dir, qmpPort, endpoint });
    run?.defer(() => guest.stop());
    run?.facts(`guest:${target}`, { node: node.name, accel: accel.accel, accelReason: accel.reason, argv });
    try {
      await waitBoot(guest, until, start.bootTimeoutMs, run);
    } catch (e) {
      run?.log.error(`guest ${target}: ${formatError(e)}`, `guest:${target}`);
      await guest.stop();
      throw e;
    }
    return guest;
  }
}

async function waitBoot(
  guest: NodeGuest,
  until: "ssh" | "userspace" | "started",
  budgetMs: number,
  run: RunContext<unknown> | undefined,
): Promise<void> {
  if (until === "started") return;
  const t0 = Date.now();
  const left = () => Math.max(1000, budgetMs - (Date.now() - t0));
  await guest.waitFor(new RegExp(USERSPACE_MARKER), { timeoutMs: left() });
  if (until === "userspace") return;
  await guest.waitFor(new RegExp(SSH_READY_MARKER), { timeoutMs: left() });
  while (true) {
    const r = await guest.exec("true", { timeoutMs: Math.min(left(), 15_000) });
    if (r.code === 0) break;
    if (Date.now() - t0 > budgetMs) {
      throw new TimeoutError(`guest ${guest.node.name}/${guest.name}: SSH`, budgetMs, r.stderr.trim());
    }
    await new Promise((res) => setTimeout(res, 300));
  }
  run?.metric("guest.boot.ssh_ready", Date.now() - t0, "ms", { guest: guest.name, node: guest.node.name });
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

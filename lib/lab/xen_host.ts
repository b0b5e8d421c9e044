/**
 * A real Xen host in the lab: Debian's Xen 4.17 with a Debian 6.1 dom0, booted in QEMU (TCG here), reachable over
 * SSH (dropbear in dom0, loopback port forward) as a lab node. The project and the host's Deno are shared over 9p,
 * so project code runs in dom0 (`host.deno(...)`) against the real hypervisor and Xen's own xenstored without any
 * upload. Success is decided from console markers, never from QEMU's exit code.
 *
 * Inside a playbook run the host is stopped by the run's deferred cleanup and its console stored as the artifact
 * `xen-host-<name>-console.log`; outside a run use `await using host = await startXenHost()`.
 * @module
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { currentRun, effect } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { HyperlabError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { argvToShell, shQuote } from "../remote/mod.ts";
import type { CommandRunner } from "../xen/mod.ts";
import { Xl } from "../xen/mod.ts";
import { knownHostsLine } from "./guest_keys.ts";
import { type GuestEndpoint, type GuestExecResult, sshExec } from "./guest_ssh.ts";
import { cacheRoot } from "./image_cache.ts";
import { QEMU_BINARY } from "./qemu_argv.ts";
import { assertPortFree, freePort } from "./qemu_ports.ts";
import { FileConsole } from "./xen_host_console.ts";
import { sourceArchive } from "./xen_host_source.ts";
import { buildXenHostImage, DOM0_DENO, type XenHostImage } from "./xen_host_image.ts";
import { parseXenHostOptions, type XenHostOptions, type XenHostOptionsInput } from "./xen_host_options.ts";
import { type VirtfsShare, xenHostArgv } from "./xen_host_qemu.ts";
import { processAlive } from "../core/process.ts";

/** Printed by dom0's init once xenstored, xen-init-dom0, xenconsoled, network and sshd are up. */
export const XEN_DOM0_READY_MARKER = "hyperlab-xen: dom0 ready";
/** Printed by dom0's init when its userspace starts. */
export const XEN_DOM0_USERSPACE_MARKER = "hyperlab-xen: dom0 userspace";
/** Console lines that mean the boot failed (hypervisor or dom0 crash). */
export const XEN_BOOT_FAILURE = /Hardware Dom0 crashed|Panic on CPU|Kernel panic - not syncing|hyperlab-xen: FAILED/;

/** Where dom0 mounts the project share (read-only). */
export const DOM0_PROJECT = "/mnt/project";
/** Where dom0 mounts the build cache share (read-only). */
export const DOM0_CACHE = "/mnt/cache";

/** Milliseconds from QEMU start to the boot milestones. */
export interface XenHostBootTimes {
  /** dom0's init started. */
  userspaceMs?: number;
  /** The ready marker: xenstored, toolstack, network and sshd up. */
  readyMs?: number;
  /** First successful SSH command. */
  sshReadyMs?: number;
}

/** What `startXenHost` accepts: the host's options, plus detaching QEMU from this process. */
export type StartXenHostOptions = XenHostOptionsInput & {
  /** Keep QEMU running after this process exits (`deno task xenlab up`); stop it with `stopXenHostPid`. */
  detach?: boolean;
  /** Runtime directory (console, known_hosts, pid); default a new temp dir, removed on stop unless detached. */
  dir?: string;
};

/** A running Xen lab host. Create with {@link startXenHost}. */
export class XenHost implements AsyncDisposable {
  /** Node name. */
  readonly name: string;
  /** Validated options. */
  readonly options: XenHostOptions;
  /** Full QEMU argv. */
  readonly argv: string[];
  /** What it booted. */
  readonly image: XenHostImage | null;
  /** The serial console (Xen + dom0). */
  readonly console: FileConsole;
  /** SSH endpoint of dom0 (inventory-shaped). */
  readonly endpoint: GuestEndpoint;
  /** Runtime directory. */
  readonly dir: string;
  /** Boot milestones. */
  readonly bootTimes: XenHostBootTimes = {};
  readonly #child: Deno.ChildProcess | null;
  readonly #pid: number;
  readonly #detached: boolean;
  readonly #run: RunContext<unknown> | undefined;
  readonly #exited = new AbortController();
  #stopped = false;

  /** @internal Use startXenHost. */
  constructor(init: {
    options: XenHostOptions;
    argv: string[];
    image: XenHostImage | null;
    console: FileConsole;
    endpoint: GuestEndpoint;
    dir: string;
    child: Deno.ChildProcess | null;
    pid: number;
    detached: boolean;
    run: RunContext<unknown> | undefined;
  }) {
    this.name = init.options.name;
    this.options = init.options;
    this.argv = init.argv;
    this.image = init.image;
    this.console = init.console;
    this.endpoint = init.endpoint;
    this.dir = init.dir;
    this.#child = init.child;
    this.#pid = init.pid;
    this.#detached = init.detached;
    this.#run = init.run;
    init.child?.status.then((s) => {
      if (!this.#stopped) {
        this.#exited.abort(
          new HyperlabError(
            "xen-host",
            `Xen lab host ${this.name}: QEMU exited unexpectedly (exit ${s.code})\nconsole tail:\n${
              this.console.tail(15)
            }`,
          ),
        );
      }
    });
  }

  /** QEMU's pid (0 when planned). */
  get pid(): number {
    return this.#pid;
  }

  /** Aborts when QEMU exits without being asked to. */
  get exitSignal(): AbortSignal {
    return this.#exited.signal;
  }

  /** Waits for `re` on the console; fails at once when QEMU exits or a crash line appears. */
  async waitFor(re: RegExp, opts: { timeoutMs?: number; since?: number } = {}): Promise<RegExpExecArray> {
    const failure = new AbortController();
    const onExit = () => failure.abort(this.#exited.signal.reason);
    this.#exited.signal.addEventListener("abort", onExit, { once: true });
    if (this.#exited.signal.aborted) onExit();
    const crashWatch = this.console.waitFor(XEN_BOOT_FAILURE, {
      timeoutMs: opts.timeoutMs ?? 30_000,
      since: opts.since,
      abort: failure.signal,
      pollMs: 500,
    }).then((m) => {
      failure.abort(
        new HyperlabError(
          "xen-host",
          `Xen lab host ${this.name}: boot failed (${m[0]})\nconsole tail:\n${this.console.tail(20)}`,
        ),
      );
    }, () => {});
    try {
      return await this.console.waitFor(re, { ...opts, abort: failure.signal, what: `Xen lab host ${this.name}` });
    } finally {
      this.#exited.signal.removeEventListener("abort", onExit);
      if (!failure.signal.aborted) failure.abort(new Error("done"));
      await crashWatch;
    }
  }

  /** Runs a shell command in dom0 over SSH. */
  exec(command: string, opts: { timeoutMs?: number; stdin?: string } = {}): Promise<GuestExecResult> {
    return effect(
      { kind: "ssh", target: this.name, action: command },
      () => {
        if (this.#exited.signal.aborted) throw this.#exited.signal.reason;
        return sshExec(this.endpoint, command, { ...opts, signal: this.#exited.signal });
      },
      () => ({ code: 0, stdout: "", stderr: "" }),
    );
  }

  /** Like exec, but throws (with stderr) when the command fails. */
  async execOk(command: string, opts: { timeoutMs?: number; stdin?: string } = {}): Promise<string> {
    const r = await this.exec(command, opts);
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split("\n").slice(-6).join("\n");
      throw new HyperlabError("command", `${this.name}: \`${command}\` exited ${r.code}: ${tail}`);
    }
    return r.stdout;
  }

  /** A CommandRunner that runs argv in dom0 (for lib/xen's `Xl` and friends). */
  get runner(): CommandRunner {
    return (argv, opts) => this.exec(argvToShell(argv), { stdin: opts?.stdin, timeoutMs: 180_000 });
  }

  /** `xl` in dom0. */
  xl(): Xl {
    return new Xl({ run: this.runner, target: this.name });
  }

  /**
   * Runs a project script in dom0 with the host's Deno (9p share, `--cached-only`, no downloads): `script` is a path
   * inside the project (under one of DOM0_SOURCE_PATHS); the source is unpacked into dom0's /tmp once per snapshot.
   * Deno in dom0 under TCG crashes now and then (glibc heap corruption, segfaults), nearly always while a domU is
   * booting (with single- and multi-threaded TCG, with and without XSAVEOPT): a run that dies from a signal or a
   * heap abort is retried up to twice, and each retry is logged (run log and stderr).
   */
  async deno(
    script: string,
    args: string[] = [],
    opts: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<GuestExecResult> {
    const rel = relative(PROJECT_ROOT, realpathSync(script.startsWith("/") ? script : join(PROJECT_ROOT, script)));
    if (rel.startsWith("..")) throw new InputError("script", "a file inside the project", script);
    const env = envPrefix(opts.env);
    return await this.#denoIn(
      `${env}${DOM0_DENO} run -A --cached-only --no-lock ${shQuote(rel)} ${argvToShell(args)}`,
      opts,
    );
  }

  /**
   * Runs project tests in dom0 (`deno test -A --no-check`): e.g. the xen and xenstore integration tests, whose
   * real-Xen halves need a dom0. `paths` are relative to the project (under DOM0_SOURCE_PATHS).
   */
  async denoTest(
    paths: string[],
    opts: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<GuestExecResult> {
    for (const p of paths) {
      if (p.startsWith("/") || p.includes("..")) throw new InputError("paths", "paths relative to the project", p);
    }
    const env = envPrefix(opts.env);
    return await this.#denoIn(
      `${env}${DOM0_DENO} test -A --no-check --cached-only --no-lock ${argvToShell(paths)}`,
      { timeoutMs: opts.timeoutMs ?? 600_000 },
    );
  }

  async #denoIn(command: string, opts: { timeoutMs?: number }): Promise<GuestExecResult> {
    if (!this.options.shares.project || !this.options.shares.deno) {
      throw new MissingError(`Xen lab host ${this.name} was started without the project or Deno share`);
    }
    const src = await sourceArchive();
    const dir = `/tmp/hyperlab-src-${src.hash}`;
    const cmd = `set -e; if [ ! -f ${dir}/.complete ]; then mkdir -p ${dir}.tmp && ` +
      `tar -xzf ${shQuote(this.dom0Path(src.path))} -C ${dir}.tmp && touch ${dir}.tmp/.complete && ` +
      `rm -rf ${dir} && mv ${dir}.tmp ${dir}; fi; cd ${dir}; ${command}`;
    for (let attempt = 1;; attempt++) {
      const r = await this.exec(cmd, { timeoutMs: opts.timeoutMs ?? 300_000 });
      if (!dom0DenoCrashed(r) || attempt > DENO_RETRIES) return r;
      const why = (r.stderr.trim().split("\n").pop() ?? "").slice(0, 200);
      const msg = `${this.name}: Deno in dom0 crashed (exit ${r.code}: ${
        why || "killed by a signal"
      }); retry ${attempt}`;
      this.#run?.log.warn(msg);
      console.error(`[xen-host] ${msg}`);
    }
  }

  /** Path of a host file of the project or the build cache as dom0 sees it through the 9p shares. */
  dom0Path(hostPath: string): string {
    const real = realpathSync(hostPath);
    const inCache = relative(realpathSync(cacheRoot()), real);
    if (!inCache.startsWith("..")) return join(DOM0_CACHE, inCache);
    const inProject = relative(PROJECT_ROOT, real);
    if (!inProject.startsWith("..")) return join(DOM0_PROJECT, inProject);
    throw new InputError("hostPath", "a file in the project or the build cache (the shares dom0 sees)", hostPath);
  }

  /** Stops QEMU (SIGTERM, then SIGKILL) and removes the runtime directory unless detached. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (!this.#pid) return; // planned under --dry-run: nothing was started
    if (this.#pid) await stopPid(this.#pid, this.#child);
    if (this.#run) {
      await this.#run.artifact(`xen-host-${this.name}-console.log`, this.console.text(), "text/plain").catch(() => {});
    }
    if (!this.#detached) await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function envPrefix(env: Record<string, string> = {}): string {
  return Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new InputError("env", "variable names like NAME_1", k);
    return `${k}=${shQuote(v)} `;
  }).join("");
}

/** How often a crashed Deno run in dom0 is retried. */
const DENO_RETRIES = 2;

/**
 * True when a dom0 Deno run died of the emulation rather than of its own result: a signal (ssh reports 255 without a
 * message), a glibc heap abort, or a V8 fatal check that Deno reports as a panic (seen once in CI: `Check failed:
 * size_in_bytes.value() < kRegularPageSize` in a probe that passes on every other run).
 */
export function dom0DenoCrashed(r: Pick<GuestExecResult, "code" | "stderr">): boolean {
  if (r.code === 255 && !r.stderr.trim()) return true;
  return (r.code === 134 || r.code === 139) ||
    /malloc\(\)|double free|corrupted (top size|double-linked|size)|Deno has panicked/.test(r.stderr);
}

async function stopPid(pid: number, child: Deno.ChildProcess | null): Promise<void> {
  const gone = child ? () => child.status.then(() => true) : async () => {
    for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    return !processAlive(pid);
  };
  const within = async (ms: number) => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([gone(), new Promise<boolean>((res) => t = setTimeout(() => res(false), ms))]);
    clearTimeout(t);
    return r;
  };
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    try {
      Deno.kill(pid, sig);
    } catch {
      return; // already gone
    }
    if (await within(5000)) return;
  }
}

/** Stops a detached Xen lab host by QEMU's pid (from `deno task xenlab up`). True when it was running. */
export async function stopXenHostPid(pid: number): Promise<boolean> {
  if (!processAlive(pid)) return false;
  await stopPid(pid, null);
  return true;
}

function requireQemu(): void {
  const ok = (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(join(d, QEMU_BINARY)).isFile;
    } catch {
      return false;
    }
  });
  if (!ok) throw new MissingError(`${QEMU_BINARY} is not installed (not on PATH)`, "apt-get install qemu-system-x86");
}

function shares(o: XenHostOptions): VirtfsShare[] {
  const out: VirtfsShare[] = [];
  if (o.shares.project) {
    out.push({ tag: "hlproject", path: PROJECT_ROOT, readOnly: true });
    out.push({ tag: "hlcache", path: realpathSync(cacheRoot()), readOnly: true });
  }
  if (o.shares.deno) {
    out.push({ tag: "hldeno", path: dirname(realpathSync(Deno.execPath())), readOnly: true });
    const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");
    out.push({ tag: "hlnpm", path: realpathSync(join(denoDir, "npm")), readOnly: true });
  }
  return out;
}

/**
 * Boots a Xen lab host: builds (or reuses) Xen, dom0 kernel and initramfs, starts QEMU, waits for dom0's ready
 * marker, then for SSH. Records `xen_host.boot.ready` and `xen_host.boot.ssh_ready` (ms from QEMU start) in a run.
 * Under `--dry-run` only the QEMU command line is planned.
 */
export async function startXenHost(input: StartXenHostOptions = {}): Promise<XenHost> {
  const { detach, dir: dirOpt, ...rest } = input;
  const o = parseXenHostOptions(rest);
  const run = currentRun();
  if (o.sshPort && !run?.dryRun) assertPortFree(o.sshPort, "sshPort");
  if (run?.dryRun) {
    const argv = xenHostArgv(o, {
      hypervisor: "<cache>/xen",
      dom0Kernel: "<cache>/vmlinux",
      initrd: "<cache>/dom0.cpio.gz",
      consoleFile: "<rundir>/console.log",
      sshPort: o.sshPort ?? 0,
      shares: shares(o),
    });
    run.plan({ kind: "qemu", target: o.name, action: argv.join(" ") });
    return new XenHost({
      options: o,
      argv,
      image: null,
      console: new FileConsole("/dev/null"),
      endpoint: { name: o.name, host: "127.0.0.1", port: 0, user: "root", key: "", knownHosts: "", hostKey: "" },
      dir: "",
      child: null,
      pid: 0,
      detached: false,
      run,
    });
  }
  requireQemu();
  const image = await buildXenHostImage({ kernelPackage: o.kernelPackage });
  const dir = dirOpt ?? await mkdtemp(join(tmpdir(), `hyperlab-xen-${o.name}-`));
  await Deno.mkdir(dir, { recursive: true });
  const sshPort = o.sshPort ?? freePort();
  const consoleFile = o.consoleFile ?? join(dir, "console.log");
  await writeFile(consoleFile, "");
  const knownHosts = join(dir, "known_hosts");
  await writeFile(knownHosts, knownHostsLine(image.keys, "127.0.0.1", sshPort));
  const endpoint: GuestEndpoint = {
    name: o.name,
    host: "127.0.0.1",
    port: sshPort,
    user: "root",
    key: image.keys.clientKey,
    knownHosts,
    hostKey: image.keys.hostPublic,
  };
  const pidFile = detach ? join(dir, "qemu.pid") : undefined;
  const argv = xenHostArgv(o, {
    hypervisor: image.xen.hypervisor,
    dom0Kernel: image.dom0Kernel,
    initrd: image.initramfs.path,
    consoleFile,
    sshPort,
    shares: shares(o),
    pidFile,
  });
  run?.plan({ kind: "qemu", target: o.name, action: argv.join(" ") });
  run?.facts(`xen-host:${o.name}`, {
    xen: image.xen.debVersion,
    kernel: `${image.kernel.package} ${image.kernel.debVersion}`,
    initramfs: image.initramfs.hash,
    argv,
  });
  const startedAt = performance.now();
  const proc = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let child: Deno.ChildProcess | null = proc;
  let pid = proc.pid;
  if (detach) {
    const out = await proc.output();
    if (!out.success) {
      throw new HyperlabError("qemu-start", `Xen lab host ${o.name}: QEMU failed to start:\n${dec(out.stderr)}`);
    }
    pid = Number((await Deno.readTextFile(pidFile!)).trim());
    child = null;
  } else {
    let stderr = "";
    const reading = (async () => {
      const d = new TextDecoder();
      try {
        for await (const c of proc.stderr) stderr = (stderr + d.decode(c, { stream: true })).slice(-16384);
      } catch { /* closed */ }
    })();
    const early = await Promise.race([proc.status, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    if (early) {
      await reading;
      throw new HyperlabError(
        "qemu-start",
        `Xen lab host ${o.name}: QEMU exited at start (exit ${early.code}):\n${
          stderr.trim().split("\n").slice(-8).join("\n")
        }`,
      );
    }
  }
  const host = new XenHost({
    options: o,
    argv,
    image,
    console: new FileConsole(consoleFile),
    endpoint,
    dir,
    child,
    pid,
    detached: !!detach,
    run,
  });
  run?.defer(() => host.stop());
  try {
    await waitUntilUp(host, startedAt);
  } catch (e) {
    await host.stop();
    throw e;
  }
  run?.metric("xen_host.boot.ready", host.bootTimes.readyMs!, "ms", { host: o.name });
  run?.metric("xen_host.boot.ssh_ready", host.bootTimes.sshReadyMs!, "ms", { host: o.name });
  return host;
}

function dec(b: Uint8Array): string {
  return new TextDecoder().decode(b).trim().split("\n").slice(-8).join("\n");
}

async function waitUntilUp(host: XenHost, startedAt: number): Promise<void> {
  const budget = host.options.bootTimeoutMs;
  const left = () => Math.max(1000, budget - (performance.now() - startedAt));
  await host.waitFor(new RegExp(XEN_DOM0_USERSPACE_MARKER), { timeoutMs: left() });
  host.bootTimes.userspaceMs = performance.now() - startedAt;
  await host.waitFor(new RegExp(XEN_DOM0_READY_MARKER), { timeoutMs: left() });
  host.bootTimes.readyMs = performance.now() - startedAt;
  let last = "";
  while (true) {
    if (performance.now() - startedAt > budget) {
      throw new TimeoutError(`Xen lab host ${host.name}: SSH on 127.0.0.1:${host.endpoint.port}`, budget, last);
    }
    const r = await host.exec("true", { timeoutMs: Math.min(left(), 20_000) }).catch((e) => {
      if (host.exitSignal.aborted) throw e;
      return { code: 255, stdout: "", stderr: String(e) };
    });
    if (r.code === 0) break;
    last = r.stderr.trim();
    await new Promise((r) => setTimeout(r, 300));
  }
  host.bootTimes.sshReadyMs = performance.now() - startedAt;
}

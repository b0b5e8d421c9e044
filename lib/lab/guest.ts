/**
 * A running QEMU guest: started from typed options with the standard guest image, its console captured (file, run
 * log, `waitFor`), controlled over QMP, reached over SSH through a loopback port forward. Inside a run it registers
 * `ctx.defer` cleanup, so it never outlives the run (success, failure or Ctrl-C); outside a run use
 * `await using guest = await startGuest(...)`.
 * @module
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { currentRun, effect } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { formatError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { GuestConsole } from "./guest_console.ts";
import { GuestExitedError, QemuStartError } from "./guest_errors.ts";
import { knownHostsLine } from "./guest_keys.ts";
import { markOwner, markQemu, RUN_DIR_PREFIX, sweepStaleRunDirs } from "./guest_stale.ts";
import { type GuestEndpoint, type GuestExecResult, sshExec } from "./guest_ssh.ts";
import {
  buildGuestImage,
  type GuestImage,
  GuestImageSpecSchema,
  SSH_READY_MARKER,
  USERSPACE_MARKER,
} from "./image_guest.ts";
import { type AccelDecision, decideAccel } from "./qemu_accel.ts";
import { buildQemuArgv, QEMU_BINARY, type QemuRuntime } from "./qemu_argv.ts";
import { type GuestOptions, type GuestOptionsInput, parseGuestOptions } from "./qemu_options.ts";
import { assertPortFree, freePort } from "./qemu_ports.ts";
import { QmpClient } from "./qmp_client.ts";
import { Qmp } from "./qmp_commands.ts";

/** How to start a guest, besides its machine options. */
export const StartOptionsSchema = z.object({
  /** What to add to the standard guest image. */
  image: GuestImageSpecSchema.optional(),
  /** Budget for QEMU start → SSH reachable (or → userspace marker without network), ms. */
  bootTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
  /**
   * What startGuest waits for before returning: `ssh` (an SSH command succeeded; the default with networking),
   * `userspace` (the init's console marker; the default without networking) or `started` (QMP is up).
   */
  waitUntil: z.enum(["ssh", "userspace", "started"]).optional(),
  /** Boot the uncompressed ELF vmlinux through PVH (default, seconds faster under TCG) or the bzImage. */
  kernelFormat: z.enum(["vmlinux", "bzImage"]).default("vmlinux"),
  /** Also keep the console in this file (it is always stored as a run artifact inside a run). */
  consoleFile: z.string().regex(/^\//, "an absolute path").optional(),
}).strict();

/** Everything `startGuest` accepts: machine options plus start options. */
export type StartGuestOptions = GuestOptionsInput & z.input<typeof StartOptionsSchema>;

/** Milliseconds from QEMU start to the boot milestones. */
export interface BootTimes {
  /** Console showed the init's userspace marker. */
  userspaceMs?: number;
  /** First successful SSH command. */
  sshReadyMs?: number;
}

/** How a guest ended. */
export interface GuestExit {
  code: number | null;
  signal: string | null;
  /** True when hyperlab asked for it (shutdown, stop, dispose). */
  expected: boolean;
}

/** How a shutdown ended the guest. */
export type ShutdownHow = "guest-poweroff" | "qmp-quit" | "sigterm" | "sigkill" | "already-exited";

const START_ATTEMPTS = 3;

/** A QEMU guest. Create with {@link startGuest}. */
export class Guest implements AsyncDisposable {
  /** Guest name. */
  readonly name: string;
  /** Validated options. */
  readonly options: GuestOptions;
  /** Accelerator used and why. */
  readonly accel: AccelDecision;
  /** Full QEMU command line (binary first). */
  readonly argv: string[];
  /** The kernel, initramfs and keys it booted. */
  readonly image: GuestImage | null;
  /** Typed QMP commands. */
  readonly qmp: Qmp;
  /** Serial console (null for a planned guest under --dry-run). */
  readonly console: GuestConsole | null;
  /** Boot milestones, filled in while booting. */
  readonly bootTimes: BootTimes = {};
  /** Host ports of options.network.forwards (same order). */
  readonly forwardPorts: number[];
  /** Resolves when QEMU has exited and resources are released. */
  readonly finished: Promise<GuestExit>;

  readonly #child: Deno.ChildProcess | null;
  readonly #qmpClient: QmpClient | null;
  /** Runtime directory (QMP socket, known_hosts, console unless consoleFile); removed when QEMU ends. */
  readonly dir: string | null;
  readonly #run: RunContext<unknown> | undefined;
  readonly #endpoint: GuestEndpoint | null;
  readonly #exitAbort = new AbortController();
  readonly #startedAt: number;
  #stderr = "";
  #expectExit = false;
  #stoppedBy: ShutdownHow | null = null;
  #exit: GuestExit | null = null;

  /** @internal Use startGuest. */
  constructor(init: {
    options: GuestOptions;
    accel: AccelDecision;
    argv: string[];
    image: GuestImage | null;
    child: Deno.ChildProcess | null;
    console: GuestConsole | null;
    qmp: QmpClient | null;
    dir: string | null;
    endpoint: GuestEndpoint | null;
    forwardPorts: number[];
    startedAt: number;
    stderr: () => string;
    run: RunContext<unknown> | undefined;
  }) {
    this.name = init.options.name;
    this.options = init.options;
    this.accel = init.accel;
    this.argv = init.argv;
    this.image = init.image;
    this.console = init.console;
    this.qmp = new Qmp(init.qmp, init.options.name);
    this.forwardPorts = init.forwardPorts;
    this.#child = init.child;
    this.#qmpClient = init.qmp;
    this.dir = init.dir;
    this.#endpoint = init.endpoint;
    this.#run = init.run;
    this.#startedAt = init.startedAt;
    this.finished = init.child ? this.#watch(init.child, init.stderr) : Promise.resolve(planned());
  }

  /** QEMU's process id (0 for a planned guest). */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** True while QEMU runs. */
  get running(): boolean {
    return this.#child !== null && this.#exit === null;
  }

  /** How QEMU ended, or null while it runs. */
  get exit(): GuestExit | null {
    return this.#exit;
  }

  /** QEMU's stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The guest as an inventory-style SSH endpoint (throws when networking is off). */
  get endpoint(): GuestEndpoint {
    if (!this.#endpoint) throw new MissingError(`guest ${this.name} has no SSH endpoint (network disabled)`);
    return this.#endpoint;
  }

  /** Aborts when QEMU exits unexpectedly (reason: GuestExitedError). */
  get exitSignal(): AbortSignal {
    return this.#exitAbort.signal;
  }

  /**
   * Waits until `re` appears on the console (by default anywhere in it; pass `since: guest.console.mark()` to wait
   * only for new output). Times out with the console tail; fails at once when QEMU exits.
   */
  waitFor(re: RegExp, options: { timeoutMs?: number; since?: number } = {}): Promise<RegExpExecArray> {
    if (!(re instanceof RegExp)) return Promise.reject(new InputError("re", "a RegExp such as /login:/", re));
    const bad = checkTimeout(options.timeoutMs);
    if (bad) return Promise.reject(bad);
    return effect(
      { kind: "qemu", target: this.name, action: `wait for console ${re}` },
      async () => {
        const c = this.#requireConsole();
        try {
          return await c.waitFor(re, { ...options, abort: this.#exitAbort.signal, what: `guest ${this.name}` });
        } catch (e) {
          // The console ends when QEMU exits, usually just before the exit status arrives: report the exit.
          if (c.ended && !this.#exitAbort.signal.aborted) await this.#exitWithin(2000);
          if (this.#exitAbort.signal.aborted) throw this.#exitAbort.signal.reason;
          throw e;
        }
      },
      () => Object.assign([""], { index: 0, input: "" }) as RegExpExecArray,
    );
  }

  /** Runs `command` in the guest over SSH (through /bin/sh). Fails at once when QEMU has exited. */
  exec(command: string, options: { timeoutMs?: number } = {}): Promise<GuestExecResult> {
    if (typeof command !== "string" || !command.trim()) {
      return Promise.reject(new InputError("command", "a non-empty shell command", command));
    }
    const bad = checkTimeout(options.timeoutMs);
    if (bad) return Promise.reject(bad);
    return effect(
      { kind: "ssh", target: this.name, action: command },
      async () => {
        if (this.#exitAbort.signal.aborted) throw this.#exitAbort.signal.reason;
        const r = await sshExec(this.endpoint, command, { ...options, signal: this.#exitAbort.signal }).catch((e) => {
          if (this.#exitAbort.signal.aborted) throw this.#exitAbort.signal.reason;
          throw e;
        });
        return r;
      },
      () => ({ code: 0, stdout: "", stderr: "" }),
    );
  }

  /** Waits until an SSH command succeeds (retrying while sshd comes up); records `sshReadyMs`. */
  async waitForSsh(timeoutMs = 60_000): Promise<void> {
    if (!this.#child) return;
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (true) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(
          `guest ${this.name}: SSH on 127.0.0.1:${this.endpoint.port}`,
          timeoutMs,
          `last ssh error: ${last}\nconsole tail:\n${this.console?.tail() ?? ""}`,
        );
      }
      const r = await this.exec("true", { timeoutMs: Math.min(left, 15_000) });
      if (r.code === 0) break;
      last = r.stderr.trim();
      await new Promise((res) => setTimeout(res, 200));
    }
    this.bootTimes.sshReadyMs ??= performance.now() - this.#startedAt;
  }

  /**
   * Shuts the guest down cleanly: `poweroff -f` inside the guest (over SSH), waiting for QEMU to exit; falls back
   * to QMP quit, then SIGTERM, then SIGKILL. Reports which way it ended (`already-exited` when QEMU was gone).
   */
  async shutdown(timeoutMs = 20_000): Promise<{ how: ShutdownHow; exit: GuestExit }> {
    if (!this.#child) return { how: "guest-poweroff", exit: planned() };
    if (this.#exit) return { how: "already-exited", exit: this.#exit };
    this.#expectExit = true;
    if (this.#endpoint) {
      sshExec(this.#endpoint, "sync; poweroff -f", { timeoutMs }).catch(() => {});
      if (await this.#exitWithin(timeoutMs)) return { how: "guest-poweroff", exit: await this.finished };
    }
    const exit = await this.stop();
    return { how: this.#stoppedBy ?? "already-exited", exit };
  }

  /** Stops QEMU at once (QMP quit, then SIGTERM, then SIGKILL) and releases everything. Idempotent. */
  async stop(): Promise<GuestExit> {
    if (!this.#child) return planned();
    this.#expectExit = true;
    if (!this.#exit) {
      this.#stoppedBy = "qmp-quit";
      await this.#qmpClient?.execute("quit", undefined, { timeoutMs: 2000 }).catch(() => {});
      if (!await this.#exitWithin(3000)) {
        this.#stoppedBy = "sigterm";
        this.#signal("SIGTERM");
        if (!await this.#exitWithin(3000)) {
          this.#stoppedBy = "sigkill";
          this.#signal("SIGKILL");
        }
      }
    }
    return await this.finished;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #requireConsole(): GuestConsole {
    if (!this.console) throw new MissingError(`guest ${this.name} is only planned (dry run)`);
    return this.console;
  }

  #signal(sig: Deno.Signal): void {
    try {
      this.#child?.kill(sig);
    } catch { /* already exited */ }
  }

  async #exitWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.finished.then(() => true),
      new Promise<boolean>((res) => timer = setTimeout(() => res(false), ms)),
    ]);
    clearTimeout(timer);
    return r;
  }

  async #watch(child: Deno.ChildProcess, stderr: () => string): Promise<GuestExit> {
    const status = await child.status;
    this.#stderr = stderr();
    const exit: GuestExit = {
      code: status.signal ? null : status.code,
      signal: status.signal,
      expected: this.#expectExit,
    };
    this.#exit = exit;
    if (!exit.expected) {
      const err = new GuestExitedError(
        this.name,
        exit.code,
        exit.signal,
        [
          this.#stderr.trim() && `QEMU stderr:\n${this.#stderr.trim().split("\n").slice(-5).join("\n")}`,
          this.console ? `console tail:\n${this.console.tail(15)}` : "",
        ].filter(Boolean).join("\n"),
      );
      this.#exitAbort.abort(err);
      this.#run?.log.error(formatError(err), `guest:${this.name}`);
    }
    await this.#release();
    return exit;
  }

  async #release(): Promise<void> {
    this.#qmpClient?.close();
    await this.console?.done;
    if (this.#run && this.console) {
      await this.#run.artifact(`guest-${this.name}-console.log`, { path: this.console.path }, "text/plain")
        .catch((e) => this.#run?.log.warn(`guest ${this.name}: console not stored: ${formatError(e)}`));
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

function checkTimeout(ms: unknown): InputError | null {
  if (ms === undefined || (typeof ms === "number" && Number.isFinite(ms) && ms > 0)) return null;
  return new InputError("timeoutMs", "a positive number of milliseconds", ms);
}

function planned(): GuestExit {
  return { code: 0, signal: null, expected: true };
}

let setprivFound: boolean | undefined;

/** True when util-linux's setpriv is on PATH (used to tie QEMU's life to this process). */
function hasSetpriv(): boolean {
  return setprivFound ??= onPath("setpriv");
}

function onPath(cmd: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    try {
      if (Deno.statSync(join(dir, cmd)).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

/** Finds QEMU on PATH or says how to install it. */
function requireQemu(): void {
  if (onPath(QEMU_BINARY)) return;
  throw new MissingError(`${QEMU_BINARY} is not installed (not on PATH)`, "apt-get install qemu-system-x86");
}

/**
 * Boots a guest: builds (or reuses) the image, decides the accelerator, starts QEMU with a QMP socket and loopback
 * port forwards, and waits for SSH (or, without network, the userspace marker). Under `--dry-run` it only plans
 * the QEMU command line and returns a planned guest whose calls are planned too.
 */
export async function startGuest(input: StartGuestOptions = {}): Promise<Guest> {
  const { image, bootTimeoutMs, waitUntil, kernelFormat, consoleFile, ...machine } = input;
  const start = parseOrThrow(
    StartOptionsSchema,
    { image, bootTimeoutMs, waitUntil, kernelFormat, consoleFile },
    "startGuest",
  );
  const options = parseGuestOptions(machine);
  if (start.waitUntil === "ssh" && !options.network.enabled) {
    throw new InputError("waitUntil", '"userspace" or "started" when network.enabled is false', "ssh");
  }
  const run = currentRun();

  if (run?.dryRun) {
    const rt: QemuRuntime = {
      kernel: "<cache>/vmlinux",
      initrd: "<cache>/guest.cpio.gz",
      qmpSocket: "<rundir>/qmp.sock",
      traceEventsFile: options.trace ? "<rundir>/trace-events" : undefined,
      sshPort: options.network.sshPort ?? 0,
      forwardPorts: options.network.forwards.map((f) => f.hostPort ?? 0),
      accel: options.accel === "kvm" ? "kvm" : "tcg",
    };
    const argv = [QEMU_BINARY, ...buildQemuArgv(options, rt)];
    run.plan({ kind: "qemu", target: options.name, action: argv.join(" ") });
    return new Guest({
      options,
      accel: { accel: rt.accel, reason: "dry run (not probed)" },
      argv,
      image: null,
      child: null,
      console: null,
      qmp: null,
      dir: null,
      endpoint: null,
      forwardPorts: rt.forwardPorts,
      startedAt: performance.now(),
      stderr: () => "",
      run,
    });
  }

  requireQemu();
  if (options.network.sshPort) assertPortFree(options.network.sshPort, "network.sshPort");
  options.network.forwards.forEach((f, i) => {
    if (f.hostPort) assertPortFree(f.hostPort, `network.forwards[${i}].hostPort`);
  });
  await sweepStaleRunDirs().catch(() => {});
  const img = await buildGuestImage(start.image ?? {});
  const accel = await decideAccel(options.accel, img.kernel);
  run?.log.info(`guest ${options.name}: accel ${accel.accel} (${accel.reason})`, `guest:${options.name}`);

  for (let attempt = 1;; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `${RUN_DIR_PREFIX}${options.name}-`));
    await markOwner(dir);
    try {
      const guest = await launch(options, start, img, accel, dir, run);
      return guest;
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      const portRace = e instanceof QemuStartError && /host forwarding rule|Address already in use/i.test(e.stderr);
      const autoPorts = !options.network.sshPort && options.network.forwards.every((f) => !f.hostPort);
      if (portRace && autoPorts && attempt < START_ATTEMPTS) {
        run?.log.warn(`guest ${options.name}: a picked port was taken meanwhile, retrying`, `guest:${options.name}`);
        continue;
      }
      throw e;
    }
  }
}

async function launch(
  options: GuestOptions,
  start: z.output<typeof StartOptionsSchema>,
  img: GuestImage,
  accel: AccelDecision,
  dir: string,
  run: RunContext<unknown> | undefined,
): Promise<Guest> {
  const name = options.name;
  const net = options.network.enabled;
  const rt: QemuRuntime = {
    kernel: start.kernelFormat === "vmlinux" && img.kernel.vmlinux ? img.kernel.vmlinux : img.kernel.vmlinuz,
    initrd: img.initramfs.path,
    qmpSocket: join(dir, "qmp.sock"),
    sshPort: net ? options.network.sshPort ?? freePort() : undefined,
    forwardPorts: options.network.forwards.map((f) => f.hostPort ?? freePort()),
    accel: accel.accel,
  };
  if (options.trace) {
    rt.traceEventsFile = join(dir, "trace-events");
    await writeFile(rt.traceEventsFile, options.trace.events.join("\n") + "\n");
  }
  let endpoint: GuestEndpoint | null = null;
  if (net && rt.sshPort) {
    const knownHosts = join(dir, "known_hosts");
    await writeFile(knownHosts, knownHostsLine(img.keys, "127.0.0.1", rt.sshPort));
    endpoint = {
      name,
      host: "127.0.0.1",
      port: rt.sshPort,
      user: "root",
      key: img.keys.clientKey,
      knownHosts,
      hostKey: img.keys.hostPublic,
    };
  }
  const argv = [QEMU_BINARY, ...buildQemuArgv(options, rt)];
  run?.plan({ kind: "qemu", target: name, action: argv.join(" ") });
  run?.facts(`guest:${name}`, {
    accel: accel.accel,
    accelReason: accel.reason,
    kernel: `${img.kernel.package} ${img.kernel.debVersion}`,
    initramfs: img.initramfs.hash,
    argv,
    killedWithController: hasSetpriv(),
  });

  const startedAt = performance.now();
  // With setpriv (util-linux), QEMU gets SIGKILL when this process dies, even by SIGKILL: no orphaned guests.
  const launcher = hasSetpriv() ? ["setpriv", "--pdeathsig", "KILL", "--", ...argv] : argv;
  const child = new Deno.Command(launcher[0], {
    args: launcher.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await markQemu(dir, child.pid);
  let stderrText = "";
  (async () => {
    const dec = new TextDecoder();
    try {
      for await (const c of child.stderr) stderrText = (stderrText + dec.decode(c, { stream: true })).slice(-65536);
    } catch { /* closed */ }
  })();
  const consolePath = start.consoleFile ?? join(dir, "console.log");
  const console = new GuestConsole(child.stdout, consolePath, (line) => run?.log.debug(line, `guest:${name}`));

  // Until the Guest exists, an early exit is a start failure.
  const early = child.status.then((s) => ({ exited: true as const, status: s }));
  let qmp: QmpClient;
  try {
    const connected = QmpClient.connect(rt.qmpSocket, { timeoutMs: 15_000, signal: run?.signal });
    connected.then((c) => early.then(() => c.close())).catch(() => {});
    const first = await Promise.race([connected.then((c) => ({ exited: false as const, client: c })), early]);
    if (first.exited) {
      await new Promise((r) => setTimeout(r, 50)); // let the stderr reader drain
      throw new QemuStartError(name, first.status.code, stderrText);
    }
    qmp = first.client;
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await console.done;
    throw e;
  }

  const guest = new Guest({
    options,
    accel,
    argv,
    image: img,
    child,
    console,
    qmp,
    dir,
    endpoint,
    forwardPorts: rt.forwardPorts,
    startedAt,
    stderr: () => stderrText,
    run,
  });
  run?.defer(async () => {
    await guest.stop();
  });

  const until = start.waitUntil ?? (net ? "ssh" : "userspace");
  if (until === "started") {
    guest.console?.waitFor(new RegExp(USERSPACE_MARKER), { timeoutMs: start.bootTimeoutMs })
      .then(() => guest.bootTimes.userspaceMs = performance.now() - startedAt).catch(() => {});
    return guest;
  }
  try {
    const budget = start.bootTimeoutMs;
    await guest.waitFor(new RegExp(USERSPACE_MARKER), { timeoutMs: budget });
    guest.bootTimes.userspaceMs = performance.now() - startedAt;
    if (until === "ssh") {
      const left = Math.max(1000, budget - (performance.now() - startedAt));
      await guest.waitFor(new RegExp(SSH_READY_MARKER), { timeoutMs: left });
      await guest.waitForSsh(Math.max(1000, budget - (performance.now() - startedAt)));
    }
    run?.metric("guest.boot.userspace", guest.bootTimes.userspaceMs, "ms", { guest: name, accel: accel.accel });
    if (guest.bootTimes.sshReadyMs !== undefined) {
      run?.metric("guest.boot.ssh_ready", guest.bootTimes.sshReadyMs, "ms", { guest: name, accel: accel.accel });
    }
  } catch (e) {
    await guest.stop();
    throw e;
  }
  return guest;
}

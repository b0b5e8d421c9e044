/**
 * A running QEMU guest: its console (file, run log, `waitFor`), QMP control, SSH access through a loopback port
 * forward, and its end (clean shutdown, stop, or QEMU dying — detected and reported). Inside a run the guest is
 * stopped by the run's deferred cleanup; outside one use `await using guest = await startGuest(...)`.
 * @module
 */
import { rm } from "node:fs/promises";
import { effect } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { formatError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import type { GuestConsole } from "./guest_console.ts";
import { GuestExitedError } from "./guest_errors.ts";
import { type GuestEndpoint, type GuestExecResult, sshExec } from "./guest_ssh.ts";
import type { GuestImage } from "./image_guest.ts";
import type { AccelDecision } from "./qemu_accel.ts";
import type { GuestOptions } from "./qemu_options.ts";
import type { QmpClient } from "./qmp_client.ts";
import { Qmp } from "./qmp_commands.ts";

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

/** A QEMU guest. Create with `startGuest` (guest_start.ts). */
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

/** The exit of a guest that was only planned (dry run). */
export function planned(): GuestExit {
  return { code: 0, signal: null, expected: true };
}

/**
 * Starting QEMU guests from typed options with the standard guest image: accelerator decision, runtime directory,
 * loopback ports (retried when a picked port was taken meanwhile), QEMU tied to this process's life, QMP
 * connection, and waiting for the userspace marker and SSH. Inside a run the guest is registered with `ctx.defer`,
 * so it never outlives the run (success, failure or Ctrl-C); outside a run use `await using`.
 * @module
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { currentRun } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { InputError, MissingError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { Guest } from "./guest.ts";
import { GuestConsole } from "./guest_console.ts";
import { QemuStartError } from "./guest_errors.ts";
import { knownHostsLine } from "./guest_keys.ts";
import { markOwner, markQemu, RUN_DIR_PREFIX, sweepStaleRunDirs } from "./guest_stale.ts";
import type { GuestEndpoint } from "./guest_ssh.ts";
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

const START_ATTEMPTS = 3;

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

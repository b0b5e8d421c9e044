/**
 * Starting a guest on a lab node through its command runner: checks QEMU and bash there, uploads the kernel,
 * initramfs and client key into the node's cache once, probes KVM on the node once, starts QEMU daemonized with its
 * console in a file and QMP on the node's loopback, and waits for the userspace marker and SSH (from the node).
 * @module
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { currentRun } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { formatError, HyperlabError, InputError, MissingError, TimeoutError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { QemuStartError } from "./guest_errors.ts";
import { knownHostsLine } from "./guest_keys.ts";
import { NodeGuest, type NodeGuestEndpoint, type NodeRunner } from "./guest_node.ts";
import { type StartGuestOptions, StartOptionsSchema } from "./guest_start.ts";
import { buildGuestImage, type GuestImage, SSH_READY_MARKER, USERSPACE_MARKER } from "./image_guest.ts";
import { type AccelDecision, KVM_PROBE_TIMEOUT_MS, kvmProbeArgv, PROBE_MARKER, probeInitramfs } from "./qemu_accel.ts";
import { buildQemuArgv, QEMU_BINARY } from "./qemu_argv.ts";
import { type GuestOptions, parseGuestOptions } from "./qemu_options.ts";

/** Where things go on the node. */
export interface NodePaths {
  /** Upload cache (kernels, initramfs, keys), default /var/tmp/hyperlab-cache. */
  cacheDir?: string;
  /** Parent of per-guest runtime directories, default /tmp. */
  runRoot?: string;
}

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

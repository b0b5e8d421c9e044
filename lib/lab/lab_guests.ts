/**
 * QEMU guests of the local lab (`deno task lab up --guests M`): guests `g0…g(M-1)` started on this machine through
 * {@link startGuestOnNode} with the local runner, so their QEMU runs daemonized and outlives the CLI. Their state
 * (QEMU pid, runtime directory under `<lab dir>/guests/`, forwarded SSH port) is kept in the lab's lab.json, which
 * is how a later `lab up`, `lab status` or `lab down` (another process) finds and re-attaches them.
 * @module
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import pLimit from "p-limit";
import { withRun } from "../core/ambient.ts";
import type { RunContext } from "../core/context.ts";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { attachNodeGuest, type NodeGuest, type NodeGuestState } from "./guest_node.ts";
import { guestNodeSpec } from "./guest_node_adapter.ts";
import { localNodeRunner } from "./guest_node_local.ts";
import { startGuestOnNode } from "./guest_node_start.ts";
import { buildGuestImage } from "./image_guest.ts";
import { LAB_SSHD_MARKER, labGuestImage } from "./lab_guest_image.ts";
import { decideAccel } from "./qemu_accel.ts";
import { alive } from "./sys.ts";

/** Most guests one lab may have (each is a QEMU process with 256 MiB; TCG guests are CPU-heavy). */
export const MAX_LAB_GUESTS = 32;

/** Name of the runner guests are recorded against (they run on the controller's machine). */
const LOCAL_NODE = "local";

/** One lab guest as recorded in lab.json. */
export interface LabGuest {
  /** Node name in the inventory: g0, g1… */
  name: string;
  /** QEMU's pid. */
  pid: number;
  /** QEMU's runtime directory (console.log, qemu.pid, known_hosts). */
  dir: string;
  /** Port on 127.0.0.1 forwarded to the guest's sshd. */
  port: number;
  /** Accelerator QEMU runs with, and why. */
  accel: string;
  /** Everything needed to re-attach (QMP port, argv, endpoint). */
  node: NodeGuestState;
}

/** Health of one lab guest. */
export interface LabGuestStatus {
  name: string;
  pid: number;
  port: number;
  /** QEMU with this pid and runtime directory is running. */
  alive: boolean;
}

/** Name of guest number `i`. */
export function labGuestName(i: number): string {
  return `g${i}`;
}

/** Where a lab keeps its guests' runtime directories and upload cache (absolute). */
export function guestsRoot(labDir: string): string {
  return join(resolve(labDir), "guests");
}

function attach(g: LabGuest): NodeGuest {
  return attachNodeGuest(localNodeRunner(LOCAL_NODE), g.node);
}

/** True while the recorded QEMU of `g` runs (pid checked against its command line). */
export async function labGuestAlive(g: LabGuest): Promise<boolean> {
  try {
    return await attach(g).running();
  } catch {
    return false;
  }
}

/** Stops one guest (QMP quit, then SIGKILL) and removes its runtime directory. Never throws. */
export async function stopLabGuest(g: LabGuest): Promise<void> {
  try {
    await attach(g).stop();
  } catch { /* bad record: the sweep below still kills its QEMU */ }
  rmSync(g.dir, { recursive: true, force: true });
}

/**
 * Kills QEMU processes running from `root` (the lab's guests directory) whose runtime directory is not in `keep`,
 * and removes such directories: guests left behind when lab.json was lost or a `lab up` died mid-way.
 */
export function sweepLabGuests(root: string, keep: Set<string> = new Set()): string[] {
  const killed: string[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!argv[0]?.includes("qemu-system")) continue;
    const dir = argv.map((a) => new RegExp(`(${escapeRe(root)}/hyperlab-[^/,]+)/`).exec(a)?.[1]).find(Boolean);
    if (!dir || keep.has(dir)) continue;
    try {
      Deno.kill(Number(e), "SIGKILL");
      killed.push(`${dir} (pid ${e})`);
    } catch { /* exited meanwhile */ }
  }
  let names: string[] = [];
  try {
    names = readdirSync(root).filter((n) => n.startsWith("hyperlab-"));
  } catch { /* no guests directory */ }
  for (const n of names) if (!keep.has(join(root, n))) rmSync(join(root, n), { recursive: true, force: true });
  return killed;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Result of {@link upLabGuests}: the guests now running, and the ones that failed to start (by name). */
export interface LabGuestsUp {
  guests: LabGuest[];
  failures: { name: string; error: unknown }[];
}

/**
 * Makes the lab have exactly `count` running guests: keeps recorded guests that still run, stops those beyond
 * `count` (and dead ones), starts the missing ones (two at a time), kills untracked QEMU processes of this lab.
 * Lab guests belong to the lab, not to a run: even when called inside a playbook run they are started outside it
 * (no deferred stop, no dry-run planning).
 */
export function upLabGuests(labDir: string, count: number, previous: LabGuest[] = []): Promise<LabGuestsUp> {
  return withRun(undefined as unknown as RunContext<unknown>, () => upOutsideRun(labDir, count, previous));
}

async function upOutsideRun(labDir: string, count: number, previous: LabGuest[]): Promise<LabGuestsUp> {
  const root = guestsRoot(labDir);
  const kept: LabGuest[] = [];
  for (const g of previous) {
    const i = Number(/^g(\d+)$/.exec(g.name)?.[1] ?? -1);
    if (i >= 0 && i < count && !kept.some((k) => k.name === g.name) && await labGuestAlive(g)) kept.push(g);
    else await stopLabGuest(g);
  }
  sweepLabGuests(root, new Set(kept.map((g) => g.dir)));
  const missing = Array.from({ length: count }, (_, i) => labGuestName(i)).filter((n) =>
    !kept.some((g) => g.name === n)
  );
  const failures: LabGuestsUp["failures"] = [];
  const started: LabGuest[] = [];
  // Image or accelerator trouble fails every missing guest, but still lets the caller record the running ones.
  const prepared = missing.length
    ? await labGuestImage().then(async ({ openssh, image }) => ({
      openssh,
      image,
      accel: await decideAccel("auto", (await buildGuestImage(image)).kernel),
    })).catch((error) => {
      failures.push(...missing.map((name) => ({ name, error })));
      return undefined;
    })
    : undefined;
  if (prepared) {
    const { openssh, image, accel } = prepared;
    const runner = localNodeRunner(LOCAL_NODE);
    const limit = pLimit(2);
    await Promise.all(missing.map((name) =>
      limit(async () => {
        try {
          const g = await startGuestOnNode(runner, { name, accel: accel.accel, image }, {
            cacheDir: join(root, "cache"),
            runRoot: root,
          });
          if (openssh) await waitOpenssh(g);
          const s = g.state();
          if (!s.endpoint) throw new HyperlabError("lab", `guest ${name} started without an SSH endpoint`);
          started.push({ name, pid: s.pid, dir: s.dir, port: s.endpoint.port, accel: accel.accel, node: s });
        } catch (error) {
          failures.push({ name, error });
        }
      })
    ));
  }
  const order = (g: LabGuest) => Number(g.name.slice(1));
  return { guests: [...kept, ...started].sort((a, b) => order(a) - order(b)), failures };
}

/** Waits until OpenSSH has taken over the guest's port 22 (see lab_guest_image.ts); stops the guest otherwise. */
async function waitOpenssh(g: NodeGuest): Promise<void> {
  try {
    await g.waitFor(new RegExp(LAB_SSHD_MARKER), { timeoutMs: 60_000, pollMs: 200 });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await g.exec("true", { timeoutMs: 15_000 });
      if (r.code === 0) return;
      if (Date.now() > deadline) throw new TimeoutError(`guest ${g.name}: SSH to OpenSSH's sshd`, 30_000, r.stderr);
      await new Promise((res) => setTimeout(res, 200));
    }
  } catch (e) {
    await g.stop();
    throw e;
  }
}

/** Stops every guest in `guests` and any untracked QEMU of the lab in `labDir`; returns the names stopped. */
export async function downLabGuests(labDir: string, guests: LabGuest[] = []): Promise<string[]> {
  await Promise.all(guests.map(stopLabGuest));
  sweepLabGuests(guestsRoot(labDir));
  rmSync(guestsRoot(labDir), { recursive: true, force: true });
  return guests.map((g) => g.name);
}

/** Health of every recorded guest. */
export async function labGuestsStatus(guests: LabGuest[] = []): Promise<LabGuestStatus[]> {
  return await Promise.all(guests.map(async (g) => ({
    name: g.name,
    pid: g.pid,
    port: g.port,
    alive: alive(g.pid) && await labGuestAlive(g),
  })));
}

/** known_hosts lines of the guests (`[127.0.0.1]:<port> ssh-ed25519 …`). */
export function labGuestsKnownHosts(guests: LabGuest[]): string {
  return guests.map((g) => `[127.0.0.1]:${g.port} ${g.node.endpoint!.hostKey}\n`).join("");
}

/** Inventory entries of the guests: 127.0.0.1:<port>, root, the guest key, tag and role `guest`. */
export function labGuestsInventory(guests: LabGuest[]): Record<string, unknown>[] {
  return guests.map((g) => {
    const spec = guestNodeSpec(g.node.endpoint!);
    return {
      name: g.name,
      host: spec.host,
      port: spec.port,
      user: spec.user,
      key: spec.key,
      roles: ["guest"],
      tags: spec.tags,
      vars: { ...spec.vars, qemuPid: g.pid, runDir: g.dir, accel: g.accel },
    };
  });
}

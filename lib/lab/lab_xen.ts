/**
 * The Xen lab host as a member of the local lab (`deno task lab up … --xen`): a detached Xen 4.17 host booted in
 * QEMU (see xen_host_lab.ts) whose dom0 is added to the lab inventory as node `xen0` (roles `xen`, `dom0`, its own
 * known_hosts), kept there across later `lab up` calls while it runs, and stopped by `lab down`.
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import YAML from "yaml";
import { readXenLabState, xenLabDown, type XenLabState, xenLabUp } from "./xen_host_lab.ts";
import { processAlive } from "../core/process.ts";

/** Where a lab in `labDir` keeps its Xen host. */
export function labXenDir(labDir: string): string {
  return join(labDir, "xen");
}

/** The running Xen host of the lab in `labDir`, or null. */
export async function runningLabXen(labDir: string): Promise<XenLabState | null> {
  const s = await readXenLabState(labXenDir(labDir));
  return s && processAlive(s.pid) ? s : null;
}

/** Boots the lab's Xen host unless it already runs; returns its state. */
export async function labXenUp(labDir: string): Promise<XenLabState> {
  return await runningLabXen(labDir) ?? await xenLabUp({}, labXenDir(labDir));
}

/** Stops the lab's Xen host (if any) and removes its directory. */
export async function labXenDown(labDir: string): Promise<string | null> {
  return (await xenLabDown(labXenDir(labDir))).stopped;
}

/**
 * Adds (or refreshes) the running Xen host's dom0 as a node of the inventory at `inventoryPath`. Returns the node
 * name, or null when no Xen host runs (any stale entry is then removed).
 */
export async function mergeLabXen(inventoryPath: string, labDir: string): Promise<string | null> {
  const s = await runningLabXen(labDir);
  const doc = (YAML.parse(await readFile(inventoryPath, "utf8")) ?? {}) as { nodes?: Record<string, unknown>[] };
  const others = (doc.nodes ?? []).filter((n) => !(Array.isArray(n.roles) && n.roles.includes("dom0")));
  doc.nodes = s
    ? [...others, {
      name: s.name,
      host: "127.0.0.1",
      port: s.sshPort,
      user: "root",
      key: s.key,
      knownHosts: s.knownHosts,
      roles: ["xen", "dom0"],
      tags: ["lab", "xen"],
      vars: { xen: s.xen, dom0Project: "/mnt/project", dom0Deno: "/usr/bin/hyperlab-deno" },
    }]
    : others;
  await writeFile(inventoryPath, YAML.stringify(doc));
  return s?.name ?? null;
}

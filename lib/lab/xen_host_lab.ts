/**
 * The Xen lab host as a lab node that outlives the command that started it (`deno task xenlab up`): QEMU detached,
 * its state in `<dir>/state.json`, and an inventory (`<dir>/inventory.yaml`, with its own known_hosts) naming dom0
 * as a node with roles `xen` and `dom0`, usable with `--inventory .hyperlab/lab/xen/inventory.yaml`.
 * @module
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import YAML from "yaml";
import { HyperlabError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { FileConsole } from "./xen_host_console.ts";
import { startXenHost, type StartXenHostOptions, stopXenHostPid, XenHost, type XenHostBootTimes } from "./xen_host.ts";
import { parseXenHostOptions, type XenHostOptions } from "./xen_host_options.ts";
import { processAlive } from "../core/process.ts";

/** Default directory of the detached Xen lab host. */
export const XEN_LAB_DIR: string = join(PROJECT_ROOT, ".hyperlab", "lab", "xen");

/** What `state.json` records. */
export interface XenLabState {
  name: string;
  pid: number;
  sshPort: number;
  dir: string;
  consoleFile: string;
  knownHosts: string;
  key: string;
  hostKey: string;
  inventory: string;
  options: XenHostOptions;
  argv: string[];
  bootTimes: XenHostBootTimes;
  xen: string;
}

/** The inventory YAML of one Xen lab host. */
export function xenLabInventory(host: XenHost, vars: Record<string, unknown> = {}): string {
  return YAML.stringify({
    defaults: { knownHosts: host.endpoint.knownHosts },
    nodes: [{
      name: host.name,
      host: host.endpoint.host,
      port: host.endpoint.port,
      user: host.endpoint.user,
      key: host.endpoint.key,
      roles: ["xen", "dom0"],
      vars: { dom0Project: "/mnt/project", dom0Deno: "/usr/bin/hyperlab-deno", ...vars },
    }],
  });
}

/** Writes `<host.dir>/inventory.yaml`; returns its path. */
export async function writeXenLabInventory(host: XenHost, vars: Record<string, unknown> = {}): Promise<string> {
  const path = join(host.dir, "inventory.yaml");
  await writeFile(path, xenLabInventory(host, vars));
  return path;
}

/** Reads the state of the detached host in `dir`, or null when none is recorded. */
export async function readXenLabState(dir = XEN_LAB_DIR): Promise<XenLabState | null> {
  try {
    return JSON.parse(await readFile(join(dir, "state.json"), "utf8"));
  } catch {
    return null;
  }
}

/**
 * Boots a detached Xen lab host in `dir` (default .hyperlab/lab/xen) and writes state and inventory. Refuses when
 * one is already running there.
 */
export async function xenLabUp(opts: StartXenHostOptions = {}, dir = XEN_LAB_DIR): Promise<XenLabState> {
  const prev = await readXenLabState(dir);
  if (prev && processAlive(prev.pid)) {
    throw new HyperlabError("xen-lab", `a Xen lab host (${prev.name}, pid ${prev.pid}) already runs in ${dir}`, {
      hint: "deno task xenlab down",
    });
  }
  await rm(dir, { recursive: true, force: true });
  const host = await startXenHost({ ...opts, detach: true, dir });
  const inventory = await writeXenLabInventory(host, { xen: host.image?.xen.debVersion });
  const state: XenLabState = {
    name: host.name,
    pid: host.pid,
    sshPort: host.endpoint.port,
    dir,
    consoleFile: host.console.path,
    knownHosts: host.endpoint.knownHosts,
    key: host.endpoint.key,
    hostKey: host.endpoint.hostKey,
    inventory,
    options: host.options,
    argv: host.argv,
    bootTimes: host.bootTimes,
    xen: host.image?.xen.debVersion ?? "",
  };
  await writeFile(join(dir, "state.json"), JSON.stringify(state, null, 2));
  return state;
}

/** A XenHost handle on the detached host in `dir` (stop() stops QEMU but keeps the directory). */
export async function attachXenLab(dir = XEN_LAB_DIR): Promise<XenHost> {
  const s = await readXenLabState(dir);
  if (!s || !processAlive(s.pid)) {
    throw new HyperlabError("xen-lab", `no Xen lab host runs in ${dir}`, { hint: "deno task xenlab up" });
  }
  return new XenHost({
    options: parseXenHostOptions(s.options),
    argv: s.argv,
    image: null,
    console: new FileConsole(s.consoleFile),
    endpoint: {
      name: s.name,
      host: "127.0.0.1",
      port: s.sshPort,
      user: "root",
      key: s.key,
      knownHosts: s.knownHosts,
      hostKey: s.hostKey,
    },
    dir,
    child: null,
    pid: s.pid,
    detached: true,
    run: undefined,
  });
}

/** Stops the detached host in `dir` and removes the directory. Returns what was stopped. */
export async function xenLabDown(dir = XEN_LAB_DIR): Promise<{ stopped: string | null }> {
  const s = await readXenLabState(dir);
  const stopped = s && await stopXenHostPid(s.pid) ? `${s.name} (pid ${s.pid})` : null;
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
  return { stopped };
}

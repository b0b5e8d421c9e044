/**
 * The local lab: N nodes on this machine, each a network namespace joined to a Linux bridge by a veth pair and
 * running its own OpenSSH sshd (own config and host key), reachable as a dedicated login account whose shell is
 * /bin/sh. `labUp` writes an inventory, a known_hosts file and the user key under the lab directory
 * (default .hyperlab/lab/, what `--inventory lab` reads). Addresses are 10.213.<subnet>.0/24, which exist only on
 * the lab's bridge and inside its namespaces.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import pLimit from "p-limit";
import YAML from "yaml";
import { HyperlabError, InputError } from "../core/errors.ts";
import { LAB_INVENTORY_PATH } from "../inventory/mod.ts";
import { alive, mustTool, tool } from "./sys.ts";
import { ensureLabBmc, type LabBmc, readLabBmc, stopLabBmc } from "./lab_bmc.ts";
import {
  downLabGuests,
  type LabGuest,
  labGuestsInventory,
  labGuestsKnownHosts,
  labGuestsStatus,
  type LabGuestStatus,
  MAX_LAB_GUESTS,
  upLabGuests,
} from "./lab_guests.ts";

/** The login account lab nodes accept (shell /bin/sh, no rc files). */
export const LAB_USER = "hyperlab-lab";
/** Home of the lab account (agent caches live here). */
export const LAB_HOME = "/var/lib/hyperlab-lab";

/** Where and how a lab is built. Tests use their own prefix, subnet and directory so labs never collide. */
export interface LabOptions {
  /** Directory for keys, configs, inventory (default .hyperlab/lab). */
  dir?: string;
  /** Prefix of namespace and interface names, 1-6 lowercase letters/digits (default `hl`). */
  prefix?: string;
  /** Third octet of 10.213.<subnet>.0/24 (default 0). */
  subnet?: number;
}

/** Options of `labUp`. */
export interface LabUpOptions extends LabOptions {
  /**
   * Give every node a simulated BMC (ipmi_sim on loopback) whose power is the node itself: `node.power.off()`
   * kills everything in its namespace, `on()` starts its sshd again. The inventory gets `ipmi:` endpoints and a
   * password file.
   */
  ipmi?: boolean;
  /**
   * QEMU lab guests `g0…g(M-1)` to have (see lab_guests.ts): they outlive the process, join the inventory (tag and
   * role `guest`, 127.0.0.1:<forwarded port>, user root) and the known_hosts. Undefined keeps the current guests.
   */
  guests?: number;
}

/** One lab node as recorded in lab.json. */
export interface LabNode {
  name: string;
  ns: string;
  hostVeth: string;
  ip: string;
  dir: string;
}

/** The lab's state file. */
export interface LabState {
  prefix: string;
  subnet: number;
  bridge: string;
  bridgeIp: string;
  user: string;
  dir: string;
  inventory: string;
  knownHosts: string;
  key: string;
  nodes: LabNode[];
  /** QEMU lab guests (absent in labs brought up without `--guests`). */
  guests?: LabGuest[];
}

/** Health of one lab node. */
export interface LabNodeStatus {
  name: string;
  ip: string;
  namespace: boolean;
  sshd: boolean;
  port: boolean;
  /** UDP port of the node's simulated BMC, when the lab has them. */
  bmcPort?: number;
}

/** Lab options with defaults filled in (directory, prefix, subnet, bridge). */
export function resolveOptions(opts: LabOptions) {
  const dir = opts.dir ?? dirname(LAB_INVENTORY_PATH);
  const prefix = opts.prefix ?? "hl";
  const subnet = opts.subnet ?? 0;
  if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) throw new InputError("prefix", "1-6 lowercase letters or digits", prefix);
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) {
    throw new InputError("subnet", "an integer 0..255", subnet);
  }
  return { dir, prefix, subnet, bridge: `${prefix}br0`, bridgeIp: `10.213.${subnet}.1` };
}

/** Throws a clear error unless running as root (uid 0). */
export function requireRoot(uid: number | null = Deno.uid()): void {
  if (uid !== 0) {
    throw new HyperlabError("lab", "the local lab needs root (network namespaces, bridge, sshd)", {
      hint: "run `sudo deno task lab up --nodes 3`",
    });
  }
}

function nodeOf(dir: string, prefix: string, subnet: number, i: number): LabNode {
  return {
    name: `n${i}`,
    ns: `${prefix}-n${i}`,
    hostVeth: `${prefix}-n${i}h`,
    ip: `10.213.${subnet}.${10 + i}`,
    dir: join(dir, `n${i}`),
  };
}

/** Reads the lab state, or undefined when there is no lab in `dir`. */
export function readLabState(opts: LabOptions = {}): LabState | undefined {
  const { dir } = resolveOptions(opts);
  const f = join(dir, "lab.json");
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, "utf8")) as LabState;
}

async function namespaces(): Promise<Set<string>> {
  const out = await mustTool("ip", ["netns", "list"]);
  return new Set(out.split("\n").map((l) => l.split(/\s+/)[0]).filter(Boolean));
}

async function linkExists(name: string): Promise<boolean> {
  return (await tool("ip", ["link", "show", "dev", name])).code === 0;
}

async function ensureUser(): Promise<void> {
  if ((await tool("id", ["-u", LAB_USER])).code !== 0) {
    const add = await tool("useradd", [
      "--system",
      "--create-home",
      "--home-dir",
      LAB_HOME,
      "--shell",
      "/bin/sh",
      LAB_USER,
    ]);
    // Another lab may have created it at the same moment.
    if (add.code !== 0 && (await tool("id", ["-u", LAB_USER])).code !== 0) {
      throw new HyperlabError("lab", `cannot create the lab account ${LAB_USER}: ${add.stderr.trim()}`);
    }
  }
  // A locked password ("!") makes sshd refuse the account when UsePAM is off; "*" means "no password" instead.
  await mustTool("usermod", ["-p", "*", LAB_USER]);
  // /dev/kvm access for the KVM facts query run by the node agent.
  if ((await tool("getent", ["group", "kvm"])).code === 0) await tool("usermod", ["-aG", "kvm", LAB_USER]);
}

function authorizedKeysPath(prefix: string): string {
  return join(LAB_HOME, ".ssh", `authorized_keys.${prefix}`);
}

function sshdConfig(n: LabNode, authorizedKeys: string): string {
  return [
    `ListenAddress ${n.ip}:22`,
    `HostKey ${join(n.dir, "ssh_host_ed25519_key")}`,
    `PidFile ${join(n.dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `AllowUsers ${LAB_USER}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PubkeyAuthentication yes",
    "PermitRootLogin no",
    "UsePAM no",
    "StrictModes no",
    "UseDNS no",
    "PrintMotd no",
    "MaxStartups 256:30:512",
    "ClientAliveInterval 0",
    "Subsystem sftp internal-sftp",
    "LogLevel ERROR",
    "",
  ].join("\n");
}

function sshdPid(n: LabNode): number | undefined {
  try {
    const pid = Number(readFileSync(join(n.dir, "sshd.pid"), "utf8").trim());
    return pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts (or restarts) one node's sshd and waits until it listens. */
export async function startSshd(n: LabNode): Promise<void> {
  if (sshdPid(n)) return;
  await mustTool("ip", [
    "netns",
    "exec",
    n.ns,
    "/usr/sbin/sshd",
    "-f",
    join(n.dir, "sshd_config"),
    "-E",
    join(n.dir, "sshd.log"),
  ]);
  if (!(await waitPort(n.ip, 22, 30_000))) {
    throw new HyperlabError("lab", `sshd of ${n.name} does not listen on ${n.ip}:22`, {
      hint: `see ${join(n.dir, "sshd.log")}`,
    });
  }
}

/** Kills one node's sshd listener and its sessions (fault injection). */
export async function killSshd(n: LabNode): Promise<void> {
  await killNamespaceProcesses(n.ns, (cmd) => cmd.includes("sshd"));
}

async function killNamespaceProcesses(ns: string, filter: (cmdline: string) => boolean = () => true): Promise<void> {
  const r = await tool("ip", ["netns", "pids", ns]);
  for (const p of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
    } catch { /* gone */ }
    if (!filter(cmd)) continue;
    try {
      Deno.kill(p, "SIGKILL");
    } catch { /* gone */ }
  }
}

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const t = setTimeout(() => (s.destroy(), resolve(false)), timeoutMs);
    s.once("connect", () => (clearTimeout(t), s.destroy(), resolve(true)));
    s.once("error", () => (clearTimeout(t), resolve(false)));
  });
}

async function waitPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tcpOpen(host, port, 1000)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Brings the lab up with `count` nodes and `opts.guests` QEMU guests (idempotent: existing healthy nodes and running
 * guests are kept, missing parts are created, nodes and guests beyond the counts are removed). `count` may be 0 when
 * the lab has guests. Returns the lab state; throws after recording the guests that did start when one fails.
 */
export async function labUp(count: number, opts: LabUpOptions = {}): Promise<LabState> {
  const resolved = resolveOptions(opts);
  const { dir, prefix, subnet, bridge, bridgeIp } = resolved;
  const previous = readLabState(opts);
  const guestCount = opts.guests ?? previous?.guests?.length ?? 0;
  if (!Number.isInteger(guestCount) || guestCount < 0 || guestCount > MAX_LAB_GUESTS) {
    throw new InputError("--guests", `a non-negative integer 0..${MAX_LAB_GUESTS}`, opts.guests);
  }
  if (!Number.isInteger(count) || count < 0 || count > 200 || count + guestCount === 0) {
    throw new InputError("--nodes", guestCount ? "an integer 0..200" : "an integer 1..200", count);
  }
  requireRoot();
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  Deno.chmodSync(dir, 0o755);
  const key = join(dir, "id_ed25519");
  if (!existsSync(key)) {
    await mustTool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "hyperlab-lab", "-f", key]);
  }
  for (const old of previous?.nodes.slice(count) ?? []) await removeNode(old);
  const nodes = Array.from({ length: count }, (_, i) => nodeOf(dir, prefix, subnet, i));
  if (count > 0) await upNodes(nodes, resolved, key);
  else {
    await tool("ip", ["link", "del", bridge]);
    rmSync(authorizedKeysPath(prefix), { force: true });
  }

  const bmcs = new Map<string, LabBmc>();
  if (opts.ipmi) {
    const pw = join(dir, "bmc.pw");
    if (!existsSync(pw)) {
      const bytes = crypto.getRandomValues(new Uint8Array(9));
      writeFileSync(pw, btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "x") + "\n", { mode: 0o600 });
    }
    await Promise.all(nodes.map(async (n) => bmcs.set(n.name, await ensureLabBmc(n, pw))));
  } else {
    for (const n of nodes) await stopLabBmc(n);
  }

  const { guests, failures } = await upLabGuests(dir, guestCount, previous?.guests);
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(
    knownHosts,
    nodes.map((n) => {
      const [type, b64] = readFileSync(join(n.dir, "ssh_host_ed25519_key.pub"), "utf8").trim().split(/\s+/);
      return `${n.ip} ${type} ${b64}\n`;
    }).join("") + labGuestsKnownHosts(guests),
  );
  const inventory = join(dir, "inventory.yaml");
  const what = [
    count ? `${count} lab nodes (network namespaces ${prefix}-n*, bridge ${bridge})` : "",
    guests.length ? `${guests.length} QEMU guests (g*, tag guest)` : "",
  ].filter(Boolean).join(" and ");
  writeFileSync(
    inventory,
    `# Generated by \`deno task lab up\`: ${what || "no nodes"}.\n` +
      YAML.stringify({
        defaults: { user: LAB_USER, port: 22, key: "id_ed25519", knownHosts: "known_hosts" },
        nodes: [
          ...nodes.map((n) => {
            const b = bmcs.get(n.name);
            const ipmi = b && { host: "127.0.0.1", port: b.port, user: b.user, password: { file: "bmc.pw" } };
            return { name: n.name, host: n.ip, tags: ["lab"], vars: { netns: n.ns }, ...(ipmi ? { ipmi } : {}) };
          }),
          ...labGuestsInventory(guests),
        ],
      }),
  );
  const state: LabState = {
    prefix,
    subnet,
    bridge,
    bridgeIp,
    user: LAB_USER,
    dir,
    inventory,
    knownHosts,
    key,
    nodes,
    ...(guests.length ? { guests } : {}),
  };
  writeFileSync(join(dir, "lab.json"), JSON.stringify(state, null, 2));
  if (failures.length) {
    const byCause = new Map<string, string[]>();
    for (const f of failures) {
      const m = String((f.error as Error)?.message ?? f.error);
      byCause.set(m, [...byCause.get(m) ?? [], f.name]);
    }
    const why = [...byCause].map(([m, names]) => `${names.join(", ")}: ${m}`).join("; ");
    throw new HyperlabError("lab", `lab guests failed to start: ${why}`, {
      hint: [
        ...new Set(failures.map((f) => (f.error as HyperlabError)?.hint).filter(Boolean)),
        `${guests.length} of ${guestCount} guests run and are in the inventory; \`lab up\` again retries`,
      ].join("; "),
      cause: failures[0].error,
    });
  }

  // sshd daemonizes before it binds its port: wait for every node to listen.
  const down = (await Promise.all(nodes.map(async (n) => (await waitPort(n.ip, 22, 30_000)) ? null : n.name)))
    .filter(Boolean);
  if (down.length) {
    throw new HyperlabError("lab", `lab nodes not answering on port 22: ${down.join(", ")}`, {
      hint: `see ${join(dir, "<node>", "sshd.log")}`,
    });
  }
  return state;
}

/** Creates what `nodes` need (account, bridge, namespaces, veths, addresses, sshd each); keeps what exists. */
async function upNodes(nodes: LabNode[], r: ReturnType<typeof resolveOptions>, key: string): Promise<void> {
  const { prefix, subnet, bridge, bridgeIp } = r;
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  await ensureUser();
  // sshd reads authorized keys as the lab user, who may not traverse the lab dir: keep them in the account's home.
  const authorized = authorizedKeysPath(prefix);
  mkdirSync(dirname(authorized), { recursive: true, mode: 0o755 });
  writeFileSync(authorized, readFileSync(`${key}.pub`), { mode: 0o644 });

  // Another lab (or anything else) routing the same /24 would steal this lab's traffic: refuse.
  const routes = await mustTool("ip", ["-o", "route", "show", "to", "match", `10.213.${subnet}.1`]);
  const clash = routes.split("\n").map((l) => /^10\.213\.\d+\.\d+\/\d+ dev (\S+)/.exec(l)?.[1]).find((d) =>
    d && d !== bridge
  );
  if (clash) {
    throw new InputError(
      "subnet",
      `a 10.213.x.0/24 subnet no other interface uses (${clash} routes 10.213.${subnet}.0/24)`,
      subnet,
      {
        hint: "pass another --subnet, or bring the other lab down",
      },
    );
  }
  if (!(await linkExists(bridge))) {
    await mustTool("ip", ["-batch", "-"], `link add ${bridge} type bridge\nlink set ${bridge} up\n`);
  }
  await mustTool("ip", ["addr", "replace", `${bridgeIp}/24`, "dev", bridge]);

  const have = await namespaces();
  const missing = nodes.filter((n) => !have.has(n.ns));
  if (missing.length) {
    const lines = missing.flatMap((n) => [
      `netns add ${n.ns}`,
      `link add ${n.hostVeth} type veth peer name eth0 netns ${n.ns}`,
      `link set ${n.hostVeth} master ${bridge}`,
      `link set ${n.hostVeth} up`,
    ]);
    await mustTool("ip", ["-batch", "-"], lines.join("\n") + "\n");
  }
  const limit = pLimit(8);
  await Promise.all(nodes.map((n) =>
    limit(async () => {
      await mustTool(
        "ip",
        ["-n", n.ns, "-batch", "-"],
        `link set lo up\naddr replace ${n.ip}/24 dev eth0\nlink set eth0 up\n`,
      );
      mkdirSync(n.dir, { recursive: true, mode: 0o755 });
      const hk = join(n.dir, "ssh_host_ed25519_key");
      if (!existsSync(hk)) await mustTool("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", n.name, "-f", hk]);
      writeFileSync(join(n.dir, "sshd_config"), sshdConfig(n, authorized));
      await startSshd(n);
    })
  ));
}

async function removeNode(n: LabNode): Promise<void> {
  if (n.dir) await stopLabBmc(n);
  await killNamespaceProcesses(n.ns);
  await tool("ip", ["netns", "del", n.ns]);
  await tool("ip", ["link", "del", n.hostVeth]);
  rmSync(n.dir, { recursive: true, force: true });
}

/**
 * Tears the lab down completely: its QEMU guests (recorded or not), processes in its namespaces, namespaces, veths,
 * bridge, files. Idempotent. `removed` names the namespaces removed, `guests` the guests stopped.
 */
export async function labDown(opts: LabOptions = {}): Promise<{ removed: string[]; guests: string[] }> {
  requireRoot();
  const { dir, prefix, bridge } = resolveOptions(opts);
  const state = readLabState(opts);
  const guests = await downLabGuests(dir, state?.guests);
  const nsRe = new RegExp(`^${prefix}-n(\\d+)$`);
  const known = new Set((state?.nodes ?? []).map((n) => n.ns));
  for (const ns of await namespaces()) if (nsRe.test(ns)) known.add(ns);
  const removed: string[] = [];
  await Promise.all([...known].map(async (ns) => {
    const i = Number(nsRe.exec(ns)?.[1] ?? -1);
    await removeNode(
      i >= 0 ? nodeOf(dir, prefix, state?.subnet ?? 0, i) : { name: ns, ns, hostVeth: `${ns}h`, ip: "", dir: "" },
    );
    removed.push(ns);
  }));
  await tool("ip", ["link", "del", bridge]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(authorizedKeysPath(prefix), { force: true });
  return { removed: removed.sort(), guests };
}

/** Health of every lab node (namespace present, sshd alive, port 22 answering) and guest (QEMU running). */
export async function labStatus(
  opts: LabOptions = {},
): Promise<{ state?: LabState; nodes: LabNodeStatus[]; guests: LabGuestStatus[] }> {
  const state = readLabState(opts);
  if (!state) return { nodes: [], guests: [] };
  const have = await namespaces().catch(() => new Set<string>());
  const nodes = await Promise.all(state.nodes.map(async (n) => ({
    name: n.name,
    ip: n.ip,
    namespace: have.has(n.ns),
    sshd: sshdPid(n) !== undefined,
    port: await tcpOpen(n.ip, 22, 1000),
    bmcPort: readLabBmc(n)?.port,
  })));
  return { state, nodes, guests: await labGuestsStatus(state.guests) };
}

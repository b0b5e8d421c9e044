/**
 * BMCs of lab nodes (`deno task lab up --ipmi`): one detached daemon per node (lab_bmc_main.ts) running ipmi_sim on
 * loopback, whose power is the node itself. Started idempotently, stopped by `lab down`.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { HyperlabError } from "../core/errors.ts";
import { alive } from "./sys.ts";

/** What a node's BMC daemon reports in bmc.json. */
export interface LabBmc {
  pid: number;
  simPid: number;
  port: number;
  consolePort: number;
  user: string;
}

/** The parts of a lab node the BMC needs. */
export interface LabBmcNode {
  name: string;
  ns: string;
  dir: string;
}

function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function bmcDir(n: LabBmcNode): string {
  return join(n.dir, "bmc");
}

/** The node's running BMC, if any. */
export function readLabBmc(n: LabBmcNode): LabBmc | undefined {
  const f = join(bmcDir(n), "bmc.json");
  if (!existsSync(f)) return undefined;
  const b = JSON.parse(readFileSync(f, "utf8")) as LabBmc;
  return alive(b.pid) ? b : undefined;
}

/** Starts the node's BMC daemon unless it runs; resolves with its endpoint. */
export async function ensureLabBmc(n: LabBmcNode, passwordFile: string): Promise<LabBmc> {
  const running = readLabBmc(n);
  if (running) return running;
  const dir = bmcDir(n);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const main = fileURLToPath(new URL("./lab_bmc_main.ts", import.meta.url));
  const args = [
    dir,
    n.name,
    passwordFile,
    n.ns,
    join(n.dir, "sshd_config"),
    join(n.dir, "sshd.pid"),
    join(n.dir, "sshd.log"),
  ];
  const cmd = `setsid ${q(Deno.execPath())} run -A --quiet ${q(main)} ${args.map(q).join(" ")} </dev/null >>${
    q(join(dir, "daemon.log"))
  } 2>&1 &`;
  await new Deno.Command("/bin/sh", { args: ["-c", cmd] }).output();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const b = readLabBmc(n);
    if (b) return b;
    await new Promise((r) => setTimeout(r, 100));
  }
  let log = "";
  try {
    log = readFileSync(join(dir, "daemon.log"), "utf8").trim().slice(-600);
  } catch { /* none */ }
  throw new HyperlabError("lab", `BMC of ${n.name} did not start${log ? `: ${log}` : ""}`, {
    hint: "is openipmi (ipmi_sim) and ipmitool installed?",
  });
}

/** Stops the node's BMC daemon (SIGTERM, then SIGKILL of it and its ipmi_sim). */
export async function stopLabBmc(n: LabBmcNode): Promise<void> {
  const f = join(bmcDir(n), "bmc.json");
  if (!existsSync(f)) return;
  const b = JSON.parse(readFileSync(f, "utf8")) as LabBmc;
  try {
    Deno.kill(b.pid, "SIGTERM");
  } catch { /* gone */ }
  const deadline = Date.now() + 5_000;
  while (alive(b.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  let machine = 0;
  try {
    machine = Number(readFileSync(join(bmcDir(n), "machine.pid"), "utf8").trim());
  } catch { /* powered off */ }
  for (const pid of [b.pid, b.simPid, machine].filter((p) => p > 0)) {
    if (!alive(pid)) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
  rmSync(f, { force: true });
}

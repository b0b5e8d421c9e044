/**
 * Running ipmitool against a node's BMC. The password goes through the environment (`-E`, IPMI_PASSWORD), never
 * on the command line, so it is absent from process lists, plans and logs.
 * @module
 */
import { HyperlabError, MissingError } from "../core/errors.ts";
import type { IpmiEndpoint } from "../inventory/mod.ts";

/** A BMC to talk to: endpoint plus password. */
export interface BmcTarget {
  /** Node name (for errors). */
  node: string;
  endpoint: IpmiEndpoint;
  password: string;
}

/** An ipmitool call failed. */
export class IpmiError extends HyperlabError {
  readonly node: string;
  constructor(node: string, what: string, detail: string) {
    super("ipmi", `node ${node}: IPMI ${what} failed: ${detail}`);
    this.node = node;
  }
}

/** ipmitool arguments that select the BMC (no password). */
export function bmcArgs(t: BmcTarget): string[] {
  const e = t.endpoint;
  const args = ["-I", e.interface, "-H", e.host, "-p", String(e.port), "-U", e.user, "-E", "-N", "2", "-R", "2"];
  if (e.interface === "lanplus") args.push("-C", String(e.cipherSuite));
  return args;
}

/** The command line as shown in plans (the password is never part of it). */
export function describeIpmitool(t: BmcTarget, args: string[]): string {
  return ["ipmitool", ...bmcArgs(t), ...args].join(" ");
}

/** Spawns ipmitool with the password in its environment. */
export function spawnIpmitool(t: BmcTarget, args: string[], stdin: "piped" | "null" = "null"): Deno.ChildProcess {
  try {
    return new Deno.Command("ipmitool", {
      args: [...bmcArgs(t), ...args],
      env: { IPMI_PASSWORD: t.password },
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new MissingError("ipmitool is not installed", "apt-get install ipmitool");
    }
    throw e;
  }
}

/** Runs one ipmitool command and returns stdout; throws IpmiError naming the node with ipmitool's message. */
export async function ipmitool(t: BmcTarget, args: string[], timeoutMs = 15_000): Promise<string> {
  const child = spawnIpmitool(t, args);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  const o = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(o.stdout);
  const err = new TextDecoder().decode(o.stderr).trim();
  if (!o.success) {
    const detail = o.signal
      ? `no answer within ${timeoutMs} ms from ${t.endpoint.host}:${t.endpoint.port}`
      : err || out.trim();
    throw new IpmiError(t.node, args.join(" "), detail.split("\n").slice(-3).join("; ").replaceAll(t.password, "***"));
  }
  return out;
}

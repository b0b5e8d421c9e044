/**
 * Driving a dom0 over SSH: lib/xen's `Xl` with a CommandRunner that runs on an inventory node (RemoteNode.run),
 * the clone triggers, and waits (guest answering ping, the children count in `xl list`).
 * @module
 */
import { connect } from "node:net";
import { effect } from "../core/ambient.ts";
import { HyperlabError } from "../core/errors.ts";
import { type RemoteNode, shQuote, waitFor } from "../remote/mod.ts";
import { type CommandRunner, Xl, type XlListRow } from "../xen/mod.ts";
import { childrenOf } from "./children.ts";

/** An Xl whose commands run on `node` (through `sudo -n` when asked; its plan target then says `(sudo)`). */
export function xlOn(node: RemoteNode, sudo = false): Xl {
  const run: CommandRunner = async (argv, opts) => {
    const r = await node.run(sudo ? ["sudo", "-n", ...argv] : argv, {
      stdin: opts?.stdin,
      check: false,
      stream: false,
      timeout: 120_000,
    });
    return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  return new Xl({ run, target: sudo ? `${node.name} (sudo)` : node.name });
}

/** `xl clone -b N <name>` on the dom0 (the parent is paused while its children are created). */
export async function xlClone(node: RemoteNode, name: string, n: number, sudo = false): Promise<void> {
  await node.run([...(sudo ? ["sudo", "-n"] : []), "xl", "clone", "-b", String(n), name], { timeout: 600_000 });
}

/** The TCP `fork` message to measure-fork, sent from the dom0 (with nc). */
export async function sendForkFromDom0(node: RemoteNode, ip: string, port: number): Promise<void> {
  await node.run({ cmd: `printf fork | nc -w 2 ${shQuote(ip)} ${port}` }, { timeout: 15_000 });
}

/** The TCP `fork` message sent from this process (when the guest network is reachable from here). */
export function sendForkFromController(ip: string, port: number, timeoutMs = 5000): Promise<void> {
  return effect(
    { kind: "tcp", target: `${ip}:${port}`, action: "send fork" },
    () =>
      new Promise<void>((resolve, reject) => {
        const s = connect({ host: ip, port });
        const t = setTimeout(() => {
          s.destroy();
          reject(new HyperlabError("fork", `fork message to ${ip}:${port}: no connection within ${timeoutMs} ms`));
        }, timeoutMs);
        s.once("connect", () =>
          s.end("fork", () => {
            clearTimeout(t);
            resolve();
          }));
        s.once("error", (e: Error) => {
          clearTimeout(t);
          reject(new HyperlabError("fork", `fork message to ${ip}:${port}: ${e.message}`));
        });
      }),
    () => undefined,
  );
}

/** Waits until the guest answers ping from the dom0 (the seed pings 10.8.0.2). */
export function waitForGuestPing(node: RemoteNode, ip: string, timeoutMs: number): Promise<void> {
  return effect(
    { kind: "wait", target: node.name, action: `ping ${ip} answers (timeout ${timeoutMs} ms)` },
    async () => {
      await waitFor(async () => {
        const r = await node.run({ cmd: `ping -c 1 -W 1 ${shQuote(ip)} >/dev/null 2>&1 && echo up || echo down` }, {
          stream: false,
          timeout: 10_000,
        });
        return r.stdout.includes("up");
      }, { timeout: timeoutMs, interval: 500, what: `guest ${ip} answering ping from ${node.name}` });
    },
    () => undefined,
  );
}

/** Waits until `xl list` shows at least `n` children of `parent`; returns them. */
export function waitForChildren(xl: Xl, parent: string, n: number, timeoutMs: number): Promise<XlListRow[]> {
  return effect(
    {
      kind: "wait",
      target: xl.target,
      action: `xl list: ${n} domain(s) named ${parent}-child-<domid> (timeout ${timeoutMs} ms)`,
    },
    async () => {
      let seen: XlListRow[] = [];
      try {
        return await waitFor(async () => {
          seen = childrenOf(parent, await xl.list());
          return seen.length >= n ? seen : undefined;
        }, { timeout: timeoutMs, interval: 1000, what: `${n} children of ${parent} in xl list on ${xl.target}` });
      } catch (e) {
        if (e instanceof HyperlabError && e.code === "timeout") {
          throw new HyperlabError(
            "timeout",
            `${e.message}\n  seen ${seen.length}: ${seen.map((r) => r.name).join(", ") || "none"}`,
            { hint: "check xencloned's log: a Linux bridge or a full ring keeps clones from completing" },
          );
        }
        throw e;
      }
    },
    () => [],
  );
}

/** Waits until the guest's console log on the dom0 contains `marker` (guests without network). */
export function waitForConsoleMarker(
  node: RemoteNode,
  logPath: string,
  marker: string,
  timeoutMs: number,
): Promise<void> {
  return effect(
    { kind: "wait", target: node.name, action: `${logPath} shows ${JSON.stringify(marker)} (timeout ${timeoutMs} ms)` },
    async () => {
      await waitFor(async () => {
        const r = await node.run({
          cmd: `grep -qF -- ${shQuote(marker)} ${shQuote(logPath)} 2>/dev/null && echo seen || echo no`,
        }, {
          stream: false,
          timeout: 15_000,
        });
        return r.stdout.includes("seen");
      }, { timeout: timeoutMs, interval: 1000, what: `${JSON.stringify(marker)} in ${logPath} on ${node.name}` });
    },
    () => undefined,
  );
}

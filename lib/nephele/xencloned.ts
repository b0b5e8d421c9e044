/**
 * xencloned on the dom0: its command line from the options table, start in the background with its output in a
 * log file, wait for `notification ring`, reset a stale enable (`-EBUSY`) with `xencloned -R` and start again,
 * read the log (clone completions), stop it.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { currentRun, effect } from "../core/ambient.ts";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { type RemoteNode, shQuote } from "../remote/mod.ts";
import { parseXenclonedLog, type XenclonedLog } from "./xencloned_log.ts";

/** xencloned's options. */
export interface XenclonedOptions {
  path: string;
  cache?: boolean;
  sharingPool?: boolean;
  leavePaused?: boolean;
  ringPages?: number;
  noIoCloning?: boolean;
  deepCopy?: boolean;
}

/** argv of xencloned (the seed runs `xencloned --cache -x`, i.e. `-c -x`). */
export function xenclonedArgv(o: XenclonedOptions): string[] {
  const a = [o.path];
  if (o.cache) a.push("-c");
  if (o.sharingPool) a.push("-x");
  if (o.leavePaused) a.push("-p");
  if (o.ringPages !== undefined && o.ringPages !== 1) a.push("-r", String(o.ringPages));
  if (o.noIoCloning) a.push("-n");
  if (o.deepCopy) a.push("-d");
  return a;
}

/** A started xencloned. */
export interface XenclonedHandle {
  pid: number;
  /** Ring line and whether a reset was needed. */
  ring?: XenclonedLog["ring"];
  reset: boolean;
  /** Reads and parses the log now. */
  read(): Promise<XenclonedLog>;
  /** Kills it. Idempotent. */
  stop(): Promise<void>;
}

function sudoPrefix(sudo: boolean): string {
  return sudo ? "sudo -n " : "";
}

async function startOnce(node: RemoteNode, o: XenclonedOptions, log: string, sudo: boolean): Promise<number> {
  const line = xenclonedArgv(o).map(shQuote).join(" ");
  const r = await node.run({
    cmd: `: > ${shQuote(log)}; nohup ${sudoPrefix(sudo)}${line} >>${shQuote(log)} 2>&1 </dev/null & echo $!`,
  }, { stream: false, timeout: 15_000 });
  return r.dryRun ? 0 : Number(r.stdout.trim().split("\n").at(-1));
}

async function readLog(node: RemoteNode, log: string): Promise<{ text: string; parsed: XenclonedLog }> {
  const r = await node.run({ cmd: `cat ${shQuote(log)} 2>/dev/null || true` }, { stream: false, timeout: 15_000 });
  return { text: r.stdout, parsed: parseXenclonedLog(r.stdout) };
}

async function alive(node: RemoteNode, pid: number): Promise<boolean> {
  const r = await node.run({ cmd: `kill -0 ${pid} 2>/dev/null && echo yes || echo no` }, {
    stream: false,
    timeout: 10_000,
  });
  return r.stdout.includes("yes");
}

/**
 * Starts xencloned and waits for its `notification ring` line. On `-EBUSY` (cloning left enabled) it runs
 * `xencloned -R` once and starts again. Fails naming the log's last lines when xencloned exits or times out.
 */
export async function startXencloned(
  node: RemoteNode,
  o: XenclonedOptions,
  opts: { log: string; timeoutMs: number; sudo?: boolean },
): Promise<XenclonedHandle> {
  const sudo = opts.sudo ?? false;
  let reset = false;
  let pid = await startOnce(node, o, opts.log, sudo);
  const handle = (ring?: XenclonedLog["ring"]): XenclonedHandle => {
    let stopped = false;
    return {
      pid,
      ring,
      reset,
      read: async () => (await readLog(node, opts.log)).parsed,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const dry = currentRun()?.dryRun ?? false;
        if (!(pid > 0) && !dry) return;
        const target = pid > 0 ? String(pid) : "<xencloned pid>";
        await node.run({ cmd: `${sudoPrefix(sudo)}kill ${target} 2>/dev/null; true` }, {
          check: false,
          timeout: 10_000,
        });
      },
    };
  };
  const ring = await effect(
    { kind: "wait", target: node.name, action: `${opts.log}: "notification ring" line (timeout ${opts.timeoutMs} ms)` },
    async () => {
      const deadline = performance.now() + opts.timeoutMs;
      while (true) {
        const { text, parsed } = await readLog(node, opts.log);
        if (parsed.ring) return parsed.ring;
        const running = await alive(node, pid);
        if (parsed.busy && !reset) {
          currentRun()?.log.warn("cloning was left enabled (EBUSY): resetting with xencloned -R", node.name);
          if (running) await node.run({ cmd: `${sudoPrefix(sudo)}kill ${pid}; true` }, { check: false });
          await node.run([...(sudo ? ["sudo", "-n"] : []), o.path, "-R"], { timeout: 15_000 });
          reset = true;
          pid = await startOnce(node, o, opts.log, sudo);
          continue;
        }
        if (!running) {
          throw new HyperlabError(
            "xencloned",
            `xencloned on ${node.name} exited before enabling cloning:\n${tail(text)}`,
          );
        }
        if (performance.now() >= deadline) {
          throw new TimeoutError(
            `xencloned on ${node.name}: waiting for "notification ring"`,
            opts.timeoutMs,
            tail(text),
          );
        }
        await sleep(200);
      }
    },
    () => undefined,
  );
  return handle(ring);
}

function tail(text: string): string {
  return text.trim().split("\n").slice(-6).map((l) => `  | ${l}`).join("\n") || "  (log empty)";
}

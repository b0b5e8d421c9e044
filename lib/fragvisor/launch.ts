/**
 * Step 3–4 of the FragVisor procedure on the origin: clean stale lkvm sockets on every node, optionally rebuild
 * lkvm and the guest kernel, start lkvm with the derived command line while writing a newline to its console every
 * few seconds (the stall bug), put the tap into the bridge, and wait for the console markers.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { currentRun, effect } from "../core/ambient.ts";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { type Cluster, waitFor } from "../remote/mod.ts";
import { bridgeCommand, guestKernelBuildCommand, lkvmBuildCommand, lkvmCleanCommand, lkvmCommand } from "./commands.ts";
import { type ConsoleMarker, ConsoleWatcher } from "./console_markers.ts";
import { type InteractiveProcess, startInteractive } from "./interactive.ts";
import type { FragvisorConfig } from "./params.ts";

/** A started aggregate VM: lkvm on the origin and its console. */
export interface LaunchedVm {
  console: ConsoleWatcher;
  process: InteractiveProcess;
  /** Newlines written to the console so far. */
  keepalives(): number;
  /** Stops the keepalive and lkvm. Idempotent. */
  stop(): Promise<void>;
}

/** Removes stale sockets in the lkvm state directory on every node. */
export async function cleanLkvmState(cluster: Cluster, cfg: FragvisorConfig): Promise<void> {
  await cluster.run({ cmd: lkvmCleanCommand(cfg) }, { timeout: 30_000 });
}

/** Rebuilds lkvm and/or the guest kernel on the origin, as the flags ask. */
export async function rebuildOnOrigin(cluster: Cluster, cfg: FragvisorConfig): Promise<void> {
  if (cfg.rebuildLkvm) await cluster.origin.run({ cmd: lkvmBuildCommand(cfg) }, { timeout: 1_800_000 });
  if (cfg.rebuildGuestKernel) await cluster.origin.run({ cmd: guestKernelBuildCommand(cfg) }, { timeout: 7_200_000 });
}

/** Starts lkvm on the origin with its console kept alive. */
export async function startLkvm(cluster: Cluster, cfg: FragvisorConfig): Promise<LaunchedVm> {
  const watcher = new ConsoleWatcher();
  const run = currentRun();
  let pending = "";
  const proc = await startInteractive(cluster.origin, lkvmCommand(cfg), {
    sudo: cfg.sudo,
    planNote: cfg.consoleKeepaliveMs > 0
      ? `console kept open; a newline written every ${cfg.consoleKeepaliveMs} ms`
      : "console kept open; no keepalive newlines",
    onOutput: (t) => {
      watcher.push(t);
      pending += t;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) run?.log.info(l.replaceAll("\r", ""), `${cluster.origin.name}:lkvm`);
    },
  });
  let sent = 0;
  const timer = cfg.consoleKeepaliveMs > 0 && !proc.done
    ? setInterval(() => {
      proc.write("\n");
      sent++;
    }, cfg.consoleKeepaliveMs)
    : undefined;
  let stopped = false;
  return {
    console: watcher,
    process: proc,
    keepalives: () => sent,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await proc.stop();
    },
  };
}

/** Polls the origin until the tap is in the bridge (adding it once the tap exists). */
export function waitForBridge(cluster: Cluster, cfg: FragvisorConfig, timeoutMs = cfg.bootTimeoutMs): Promise<void> {
  return effect(
    {
      kind: "wait",
      target: cluster.origin.name,
      action: `${cfg.tap} in bridge ${cfg.bridge} (timeout ${timeoutMs} ms)`,
    },
    async () => {
      await waitFor(async () => {
        const r = await cluster.origin.run({ cmd: bridgeCommand(cfg) }, {
          check: false,
          stream: false,
          timeout: 10_000,
        });
        return r.stdout.includes("bridged");
      }, { timeout: timeoutMs, interval: 1000, what: `${cfg.tap} in bridge ${cfg.bridge} on ${cluster.origin.name}` });
    },
    () => undefined,
  );
}

/** The console stopped before the markers appeared, or lkvm exited. */
export class ConsoleError extends HyperlabError {
  constructor(message: string) {
    super("console", message, { hint: "a console that stalls needs newlines on stdin (--console-keepalive-ms)" });
  }
}

/**
 * Waits for console markers. Fails when lkvm exits first, or after `timeoutMs` with the missing markers, how long
 * the console has been silent and its last lines.
 */
export function waitForConsole(
  vm: LaunchedVm,
  markers: readonly ConsoleMarker[],
  timeoutMs: number,
  origin: string,
): Promise<void> {
  return effect(
    { kind: "wait", target: origin, action: `lkvm console: ${markers.join(", ")} (timeout ${timeoutMs} ms)` },
    async () => {
      const deadline = performance.now() + timeoutMs;
      const signal = currentRun()?.signal;
      while (!vm.console.has(markers)) {
        if (vm.process.done) {
          const code = await vm.process.exited;
          throw new ConsoleError(
            `lkvm on ${origin} exited (code ${code}) before ${vm.console.missing(markers).join(", ")}\n` +
              tail(vm.console.text()),
          );
        }
        if (performance.now() >= deadline) {
          const silent = Math.round(performance.now() - vm.console.lastOutputAt);
          throw new TimeoutError(
            `lkvm console on ${origin}: waiting for ${vm.console.missing(markers).join(", ")}`,
            timeoutMs,
            `console silent for ${silent} ms (${vm.keepalives()} keepalive newlines sent); last lines:\n` +
              tail(vm.console.text()),
          );
        }
        if (signal?.aborted) throw signal.reason;
        await sleep(100);
      }
    },
    () => undefined,
  );
}

function tail(text: string, lines = 8): string {
  return text.split("\n").filter((l) => l.trim()).slice(-lines).map((l) => `  | ${l}`).join("\n");
}

/**
 * Step 2 of the FragVisor procedure: the Popcorn messaging layer. config.h (IPs in node order) and the module
 * build on every node in parallel, the module loaded on each node strictly in node order, then a wait until every
 * node's kernel log shows `Ready on InfiniBand RDMA` and N−1 `joined` lines. A timeout names the nodes and the
 * peers that are missing, and any `My IP is not listed` / `Unable to …` lines.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { currentRun, effect } from "../core/ambient.ts";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import type { Cluster } from "../remote/mod.ts";
import { dmesgCommand, msgLoadCommand, msgPrepareCommands, msgSettleCommand } from "./commands.ts";
import { describeJoin, type JoinStatus, joinStatus, parseDmesg, popcornLines } from "./dmesg_markers.ts";
import type { FragvisorConfig } from "./params.ts";

/** Builds config.h and the module on every node (in parallel; a failing node stops the step, named). */
export async function prepareMessagingLayer(cluster: Cluster, cfg: FragvisorConfig): Promise<void> {
  await cluster.each(async (node) => {
    for (const cmd of msgPrepareCommands(cfg, cfg.nodeNames.indexOf(node.name))) {
      await node.run({ cmd }, { timeout: 600_000 });
    }
  });
}

/** Per node (nid order): how many `popcorn:` kernel-log lines predate the current load. */
export type DmesgBaseline = number[];

async function popcornText(cluster: Cluster, cfg: FragvisorConfig): Promise<(string | undefined)[]> {
  const r = await cluster.run({ cmd: dmesgCommand(cfg) }, {
    check: false,
    stream: false,
    timeout: 15_000,
    continueOnError: true,
  });
  return r.outcomes.map((o) => o.status === "ok" ? o.value.stdout : undefined);
}

/**
 * Loads the module on each node, one after the other in node order. Returns the kernel-log baseline (lines logged
 * before this load), so an earlier load's `Ready`/`joined` lines are not taken for this one's.
 */
export async function loadMessagingLayerInOrder(cluster: Cluster, cfg: FragvisorConfig): Promise<DmesgBaseline> {
  const log = currentRun()?.log;
  const before = await popcornText(cluster, cfg);
  const baseline = before.map((t) => t === undefined ? 0 : popcornLines(t).split("\n").filter(Boolean).length);
  for (const node of cluster.nodes) {
    const nid = cfg.nodeNames.indexOf(node.name);
    log?.info(`loading the messaging layer (nid ${nid})`, node.name);
    await node.run({ cmd: msgLoadCommand(cfg, nid) }, { timeout: 30_000 });
  }
  await cluster.run({ cmd: msgSettleCommand(cfg) }, { check: false, timeout: 30_000 });
  return baseline;
}

/** Reads every node's messaging-layer state from its kernel log (lines after the baseline). */
export async function readJoinStatus(
  cluster: Cluster,
  cfg: FragvisorConfig,
  baseline: DmesgBaseline = [],
): Promise<JoinStatus> {
  const texts = await popcornText(cluster, cfg);
  const states = texts.map((t, i) => t === undefined ? undefined : parseDmesg(popcornLines(t, baseline[i] ?? 0)));
  return joinStatus(cfg.nodeNames, states);
}

/**
 * Polls until the join is complete. Fails early when a node reports `My IP is not listed` (its module cannot
 * load), else with a TimeoutError naming each unfinished node and its missing peers.
 */
export function waitForJoin(
  cluster: Cluster,
  cfg: FragvisorConfig,
  baseline: DmesgBaseline = [],
  intervalMs = 500,
): Promise<JoinStatus> {
  const n = cfg.nodeNames.length;
  return effect(
    {
      kind: "wait",
      target: cfg.nodeNames.join(","),
      action: `dmesg: "popcorn: Ready on InfiniBand RDMA" and ${n - 1} "joined" lines on every node ` +
        `(timeout ${cfg.joinTimeoutMs} ms)`,
    },
    async () => {
      const deadline = performance.now() + cfg.joinTimeoutMs;
      const signal = currentRun()?.signal;
      let last: JoinStatus | undefined;
      while (true) {
        last = await readJoinStatus(cluster, cfg, baseline);
        if (last.complete) return last;
        const notListed = last.nodes.filter((x) => x.ipNotListed);
        if (notListed.length) {
          throw new MessagingLayerError(
            `messaging layer: ${notListed.map((x) => x.node).join(", ")} not in msg_layer/config.h ` +
              `(popcorn: My IP is not listed in the node configuration)\n${describeJoin(last)}`,
            last,
          );
        }
        if (performance.now() >= deadline) {
          throw new TimeoutError(
            `messaging layer: waiting for ${last.pending.join(", ")} to be ready with ${n - 1} peers joined`,
            cfg.joinTimeoutMs,
            describeJoin(last),
          );
        }
        if (signal?.aborted) throw signal.reason;
        await sleep(intervalMs);
      }
    },
    (): JoinStatus => ({ complete: true, nodes: [], pending: [] }),
  );
}

/** The messaging layer failed on a node in a way waiting cannot fix. */
export class MessagingLayerError extends HyperlabError {
  /** Every node's state when it failed. */
  readonly status: JoinStatus;
  constructor(message: string, status: JoinStatus) {
    super("msg-layer", message, { hint: "check msg_layer/config.h against each node's addresses (`ip -o addr`)" });
    this.status = status;
  }
}

/**
 * Step 5 experiments, driven from the origin host against the guest: LEMP (`ab -n 100 -c 10` against the PHP
 * script variants), network delegation (`ab -n 1000 -c 10` per response size), OpenLambda (concurrent
 * `curl -X POST <vm>:500{0..N-1}/run/process`), and `/proc/popcorn_stat` collected per host.
 * @module
 */
import type { Cluster, RemoteNode } from "../remote/mod.ts";
import { shQuote } from "../remote/mod.ts";
import { type AbResult, parseAb } from "./ab_output.ts";
import { POPCORN_STAT_COMMAND, withPath } from "./commands.ts";
import type { FragvisorConfig } from "./params.ts";
import { parsePopcornStat } from "./popcorn_stat.ts";

/** The `ab` command line for one URL. */
export function abCommand(url: string, requests: number, concurrency: number): string {
  return `ab -n ${requests} -c ${concurrency} ${shQuote(url)}`;
}

/** Runs ab on `node` and parses its report (a dry run yields undefined). */
export async function runAb(
  node: RemoteNode,
  cfg: FragvisorConfig,
  url: string,
  requests: number,
  concurrency: number,
): Promise<AbResult | undefined> {
  const r = await node.run({ cmd: withPath(cfg, abCommand(url, requests, concurrency)) }, {
    stream: false,
    timeout: 1_800_000,
  });
  return r.dryRun ? undefined : parseAb(r.stdout);
}

/** The OpenLambda burst: one POST per port 5000… at once; prints `<code> <seconds>` per request and `total <ms>`. */
export function openLambdaCommand(guestIp: string, functions: number): string {
  const ports = Array.from({ length: functions }, (_, i) => 5000 + i).join(" ");
  return `s=$(date +%s%N); for p in ${ports}; do curl -s -o /dev/null -w '%{http_code} %{time_total}\\n' ` +
    `-X POST http://${guestIp}:$p/run/process & done; wait; e=$(date +%s%N); echo total $(( (e - s) / 1000000 ))`;
}

/** Parsed OpenLambda burst output. */
export interface OpenLambdaResult {
  codes: number[];
  latenciesS: number[];
  totalMs: number;
}

/** Parses openLambdaCommand's output. */
export function parseOpenLambda(text: string): OpenLambdaResult {
  const codes: number[] = [], latenciesS: number[] = [];
  let totalMs = NaN;
  for (const line of text.split("\n")) {
    const m = /^(\d{3}) ([\d.]+)$/.exec(line.trim());
    if (m) {
      codes.push(Number(m[1]));
      latenciesS.push(Number(m[2]));
    }
    const t = /^total (\d+)$/.exec(line.trim());
    if (t) totalMs = Number(t[1]);
  }
  return { codes, latenciesS, totalMs };
}

/** Reads /proc/popcorn_stat on every host (raw text and counters; hosts without it are reported, not fatal). */
export async function collectPopcornStat(
  cluster: Cluster,
): Promise<{ node: string; text: string; counters: Record<string, number>; error?: string }[]> {
  const r = await cluster.run({ cmd: POPCORN_STAT_COMMAND }, { stream: false, timeout: 15_000, continueOnError: true });
  return r.outcomes.map((o) =>
    o.status === "ok"
      ? { node: o.node, text: o.value.stdout, counters: parsePopcornStat(o.value.stdout) }
      : { node: o.node, text: "", counters: {}, error: o.status === "failed" ? o.error : o.reason }
  );
}

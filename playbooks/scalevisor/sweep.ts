/**
 * One measured run of the sweep: runs the kmeans script in the guest, reads the NBD server's counters around it,
 * records the metrics (tags ratio, swap, merge), and checks that kmeans computed the same centers as the all-local
 * run (swapped memory that came back wrong fails the run). A run the kernel OOM-killed at its limit is recorded as
 * such (metric `kmeans.oom_killed`) and the sweep goes on.
 * @module
 */
import type { RunContext } from "../../lib/core/context.ts";
import { HyperlabError } from "../../lib/core/errors.ts";
import type { Guest } from "../../lib/lab/guests_mod.ts";
import type { NbdServer } from "../../lib/nbd/mod.ts";
import type { RmemClient } from "../../lib/rmem/mod.ts";
import { parseRunOutput, type RunMeasurement, runScript, type RunSpec } from "./guest_script.ts";

/** One recorded run of the sweep. */
export interface SweepRun extends Omit<RunMeasurement, "kmeans"> {
  /** Local-memory ratio, null for the all-local run. */
  ratio: number | null;
  /** Round of the sweep (1-based; see the playbook's `repeat`). */
  round: number;
  swap: RunSpec["swap"];
  /** kmeans' own iteration time (null when OOM-killed). */
  kmeansSeconds: number | null;
  checksum: string | null;
  /** NBD traffic during the run (remote runs only). */
  nbd?: { bytesWritten: number; bytesRead: number; requests: number };
  /** rmem requests the NBD disk issued and those that went on the wire (fewer when merged); remote runs only. */
  rmem?: { requests: number; wireRequests: number };
}

/** What a run needs from the playbook. */
export interface SweepDeps {
  ctx: RunContext<unknown>;
  guest: Guest;
  nbd: NbdServer | null;
  client: RmemClient | null;
  merge: boolean;
  timeoutMs: number;
  /** Runs so far; the first is the all-local reference. */
  runs: SweepRun[];
}

/** Runs `spec` as the step `label`; returns the run (null under --dry-run, where the script is only planned). */
export function measure(
  d: SweepDeps,
  spec: RunSpec,
  at: { ratio: number | null; round: number },
  label: string,
): Promise<SweepRun | null> {
  const { ctx } = d;
  return ctx.step(label, async () => {
    const before = d.nbd?.stats();
    const rmemBefore = d.client ? rmemCounts(d.client) : undefined;
    const r = await d.guest.exec(runScript(spec), { timeoutMs: d.timeoutMs });
    if (ctx.dryRun) return null;
    const m = parseRunOutput(r.stdout, r.stderr, r.code);
    const after = d.nbd?.stats();
    const rmemAfter = d.client ? rmemCounts(d.client) : undefined;
    const { kmeans: km, ...rest } = m;
    const run: SweepRun = {
      ratio: at.ratio,
      round: at.round,
      swap: spec.swap,
      ...rest,
      kmeansSeconds: km?.seconds ?? null,
      checksum: km?.checksum ?? null,
    };
    if (spec.swap === "remote" && before && after) {
      run.nbd = {
        bytesWritten: after.bytesWritten - before.bytesWritten,
        bytesRead: after.bytesRead - before.bytesRead,
        requests: after.requests - before.requests,
      };
    }
    if (spec.swap === "remote" && rmemBefore && rmemAfter) {
      run.rmem = {
        requests: rmemAfter.requests - rmemBefore.requests,
        wireRequests: rmemAfter.wireRequests - rmemBefore.wireRequests,
      };
    }
    record(ctx, run, d.merge);
    if (run.outcome === "oom-killed") {
      ctx.log.warn(
        `${label}: kmeans was OOM-killed at its limit after ${run.wallSeconds} s (${run.pswpout} pages swapped out): ` +
          "reclaim could not swap out fast enough; no runtime for this point",
      );
    } else {
      ctx.log.info(
        `${label}: ${run.wallSeconds} s wall, ${run.pswpout} pages swapped out, ${run.pswpin} in` +
          (run.nbd ? `, NBD wrote ${run.nbd.bytesWritten} bytes` : "") +
          (run.rmem ? `, rmem ${run.rmem.requests} requests, ${run.rmem.wireRequests} on the wire` : ""),
      );
      const ref = d.runs.find((x) => x.checksum !== null);
      if (ref && run.checksum !== ref.checksum) {
        throw new HyperlabError(
          "scalevisor",
          `${label}: kmeans centers differ from the all-local run (${run.checksum} vs ${ref.checksum}): ` +
            "swapped memory came back wrong",
        );
      }
    }
    d.runs.push(run);
    return run;
  }, { timeoutMs: d.timeoutMs + 30_000 });
}

function rmemCounts(client: RmemClient): { requests: number; wireRequests: number } {
  let requests = 0, wireRequests = 0;
  for (const u of client.usage()) {
    requests += u.channel.requests;
    wireRequests += u.channel.wireRequests;
  }
  return { requests, wireRequests };
}

function record(ctx: RunContext<unknown>, run: SweepRun, merge: boolean): void {
  const t = {
    merge: merge ? "on" : "off",
    ratio: run.ratio === null ? "all-local" : String(run.ratio),
    swap: run.swap,
  };
  if (run.outcome === "oom-killed") ctx.metric("kmeans.oom_killed", 1, "runs", t);
  else {
    ctx.metric("kmeans.wall", run.wallSeconds, "s", t);
    ctx.metric("kmeans.iterations", run.kmeansSeconds!, "s", t);
  }
  ctx.metric("guest.pswpout", run.pswpout, "pages", t);
  ctx.metric("guest.pswpin", run.pswpin, "pages", t);
  ctx.metric("cgroup.memory_peak", run.peakBytes, "bytes", t);
  if (run.memoryMax !== null) ctx.metric("cgroup.memory_max", run.memoryMax, "bytes", t);
  if (run.memoryHigh !== null) ctx.metric("cgroup.memory_high", run.memoryHigh, "bytes", t);
  if (run.nbd) {
    ctx.metric("nbd.bytes_written", run.nbd.bytesWritten, "bytes", t);
    ctx.metric("nbd.bytes_read", run.nbd.bytesRead, "bytes", t);
  }
  if (run.rmem) {
    ctx.metric("rmem.requests", run.rmem.requests, "requests", t);
    ctx.metric("rmem.wire_requests", run.rmem.wireRequests, "requests", t);
  }
}

/** One point of the curve: the median wall-clock of a (ratio, swap) pair's completed runs. */
export interface MedianPoint {
  ratio: number | null;
  swap: RunSpec["swap"];
  wallSeconds: number;
  /** Completed runs the median is of (OOM-killed runs are not among them). */
  samples: number;
}

/** Medians of the completed runs per (ratio, swap), in the order the pairs first ran. */
export function medians(runs: SweepRun[]): MedianPoint[] {
  const groups = new Map<string, SweepRun[]>();
  for (const r of runs) {
    if (r.outcome !== "ok") continue;
    const k = `${r.ratio}/${r.swap}`;
    groups.set(k, [...groups.get(k) ?? [], r]);
  }
  return [...groups.values()].map((g) => {
    const w = g.map((r) => r.wallSeconds).sort((a, b) => a - b);
    const mid = Math.floor(w.length / 2);
    const median = w.length % 2 ? w[mid] : Math.round((w[mid - 1] + w[mid]) / 2 * 1000) / 1000;
    return { ratio: g[0].ratio, swap: g[0].swap, wallSeconds: median, samples: g.length };
  });
}

/**
 * Parameter sweeps of the model (the `hypersio/explore` playbook): a grid over trace parameters (tenants, order,
 * burst) and model parameters (IOTLB size/ways/policy, page-cache sizes, prefetch size/distance/history, tqueue,
 * inorder, salloc, link Gb/s). Traces are built once per (tenants, order, burst); points run in parallel on a pool
 * of Workers (one per core by default) and, when `executors` are given, on other machines too (lab nodes:
 * `sweep_remote.ts`), all taking points from one queue. An executor that fails (a node lost mid-sweep) hands its
 * points back to the queue and is not used again; the sweep goes on with the others. Each finished point is appended
 * to a journal file (JSON lines) before it is reported, so an interrupted sweep resumes without redoing finished
 * points.
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { formatError, HyperlabError, InputError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { defaultConfig, type ModelConfig, parseModelConfig, parseRunOptions, type RunOptionsInput } from "./config.ts";
import type { PointSummary } from "./sweep_summary.ts";
import { buildTrace, type TraceOrder } from "./trace_builder.ts";
import { traceFiles } from "./trace_format.ts";

const ints = (min: number, max: number) => z.array(z.number().int().min(min).max(max)).min(1);

/** The grid: every field is a list of values; the sweep runs their cross product. */
export const SweepGridSchema = z.object({
  tenants: ints(1, 4096).default([1, 4, 16]),
  order: z.array(z.enum(["rr", "rand", "orig"])).min(1).default(["rr"]),
  burst: ints(1, 1024).default([1]).describe("packets per tenant turn (consec = 3 x burst)"),
  iotlbSize: ints(0, 1 << 20).default([64]),
  iotlbWays: ints(1, 1 << 20).default([8]),
  iotlbRepl: z.array(z.enum(["lru", "lfu", "oracle"])).min(1).default(["lru"]),
  l2Size: ints(0, 1 << 20).default([512]),
  l3Size: ints(0, 1 << 20).default([1024]),
  prefetchSize: ints(0, 1 << 16).default([0]),
  prefetchDist: ints(1, 1 << 16).default([32]),
  prefetchHist: ints(1, 1 << 16).default([2]),
  tqueue: ints(1, 1 << 16).default([1]),
  inorder: z.array(z.boolean()).min(1).default([false]),
  salloc: z.array(z.boolean()).min(1).default([false]),
  linkGbps: ints(1, 12336).default([200]),
});

/** A grid (input form). */
export type SweepGridInput = z.input<typeof SweepGridSchema>;
/** A grid. */
export type SweepGrid = z.infer<typeof SweepGridSchema>;

/** One point of the grid. */
export type SweepPoint = { [K in keyof SweepGrid]: SweepGrid[K][number] };

/** One finished point. */
export interface PointResult {
  key: string;
  point: SweepPoint;
  summary: PointSummary;
  /** Where it ran, when not on this machine's Workers (a node name). */
  node?: string;
}

/** One point handed to an executor: its key and parameters, the local trace file and the model's inputs. */
export interface SweepJob {
  key: string;
  point: SweepPoint;
  /** Local path of the trace's `iotlb_trace.bin` (the only file the model reads). */
  path: string;
  config: ModelConfig;
  options: RunOptionsInput;
}

/**
 * Somewhere points run: this machine's Workers (built in) or another machine (a lab node, `sweep_remote.ts`).
 * An executor runs `open()`'s count of points at once, each in its own slot.
 */
export interface PointExecutor {
  /** Name recorded with its points and in errors (`local`, or a node name). */
  readonly name: string;
  /** Gets ready (install, connect) and resolves with how many points it runs at once. Throwing loses it. */
  open(signal: AbortSignal): Promise<number>;
  /**
   * Runs one point in `slot` (0 ≤ slot < open()'s count). Throws {@link ExecutorLostError} when the executor
   * failed rather than the point (the point goes back to the queue, the executor gets no more); any other error
   * is the point's own and fails the sweep, as it would locally.
   */
  run(job: SweepJob, slot: number, signal: AbortSignal): Promise<PointSummary>;
  /** Releases what it holds. Idempotent. */
  close(): void | Promise<void>;
}

/** The executor (a node), not the point, failed: its points are retried elsewhere. */
export class ExecutorLostError extends HyperlabError {
  /** Executor (node) name. */
  readonly executor: string;
  /** Machine-readable cause, e.g. `connection-lost`, `timeout`, `exit`, `install`. */
  readonly reason: string;
  constructor(executor: string, reason: string, message: string, options?: { cause?: unknown }) {
    // Remote errors already name their node ("node n1: …"): no second prefix.
    super("executor-lost", message.includes(executor) ? message : `${executor}: ${message}`, options);
    this.executor = executor;
    this.reason = reason;
  }
}

/** How to run a sweep. */
export interface SweepOptions {
  grid: SweepGridInput;
  /** Log prefix the traces are built from (`<prefix>_<k>.txt`). */
  logPrefix: string;
  /** Devices per log (default from `_vm_<D>_`). */
  devicesPerLog?: number;
  /** Where traces are built and cached. */
  traceDir: string;
  /** Journal file (JSON lines) of finished points; resuming reads it. */
  journal: string;
  /** Local Worker count (default: CPU count without `executors`, 0 with them). */
  workers?: number;
  /** Other places points run (lab nodes: `nodeExecutors` of `sweep_remote.ts`), besides the local Workers. */
  executors?: PointExecutor[];
  /** Called once when an executor is lost (its points go back to the queue). */
  onExecutorLost?: (executor: string, error: ExecutorLostError) => void | Promise<void>;
  /** L2/L3 page-cache ways (fixed). Default 16. */
  pageCacheWays?: number;
  signal?: AbortSignal;
  /** Called once per finished point (new or resumed), in completion order. */
  onPoint?: (r: PointResult, resumed: boolean) => void | Promise<void>;
  /** Called when a trace is built or reused. */
  onTrace?: (path: string, built: boolean) => void;
}

/** Outcome of a sweep. */
export interface SweepOutcome {
  points: PointResult[];
  /** Points taken from the journal. */
  resumed: number;
  /** Points computed now. */
  computed: number;
  /** Executors (nodes) lost during the sweep, in order; their points ran elsewhere. */
  lost: string[];
}

/** Expands a grid to its points (order of fields as in the schema, last field fastest). */
export function expandGrid(input: SweepGridInput): SweepPoint[] {
  const grid = parseOrThrow(SweepGridSchema, input, "hypersio sweep grid");
  let points: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(grid) as [string, unknown[]][]) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  }
  return points as SweepPoint[];
}

/** Geometry and run options of a point. */
export function pointModel(p: SweepPoint, pageCacheWays = 16): { config: ModelConfig; options: RunOptionsInput } {
  const d = defaultConfig();
  const config = parseModelConfig({
    ...d,
    IOTLB: { ...d.IOTLB, size: p.iotlbSize, assoc: Math.min(p.iotlbWays, Math.max(1, p.iotlbSize)) },
    L2PAGE: { ...d.L2PAGE, size: p.l2Size, assoc: p.l2Size ? Math.min(pageCacheWays, p.l2Size) : 0 },
    L3PAGE: { ...d.L3PAGE, size: p.l3Size, assoc: p.l3Size ? Math.min(pageCacheWays, p.l3Size) : 0 },
    PREFETCH: { size: p.prefetchSize, assoc: p.prefetchDist, histlen: p.prefetchHist, groups: 1 },
  }, `sweep point ${JSON.stringify(p)}`);
  const options = parseRunOptions({
    tqueue: p.tqueue,
    inorder: p.inorder,
    salloc: p.salloc,
    iotlbRepl: p.iotlbRepl,
    linkGbps: p.linkGbps,
  });
  return { config, options };
}

/** Stable key of a point plus the trace's identity. */
export function pointKey(p: SweepPoint, traceId: string): string {
  const canon = JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k as keyof SweepPoint]]));
  return createHash("sha256").update(`${traceId}\n${canon}`).digest("hex").slice(0, 16);
}

/** Reads a journal's finished points by key (a torn last line from a crash is ignored). */
export async function readJournal(path: string): Promise<Map<string, PointResult>> {
  const out = new Map<string, PointResult>();
  if (!existsSync(path)) return out;
  for (const line of (await readFile(path, "utf8")).split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as PointResult;
      if (r.key && r.summary) out.set(r.key, r);
    } catch { /* torn write */ }
  }
  return out;
}

/** Runs (or resumes) a sweep. */
export async function runSweep(o: SweepOptions): Promise<SweepOutcome> {
  const points = expandGrid(o.grid);
  const done = await readJournal(o.journal);
  mkdirSync(dirname(o.journal), { recursive: true });
  // Traces are cached per log set: prefix plus size and mtime of its first log.
  const first = await Deno.stat(`${o.logPrefix}_0.txt`).catch(() => null);
  const logId = createHash("sha256").update(`${o.logPrefix}:${first?.size}:${first?.mtime?.getTime()}`).digest("hex")
    .slice(0, 8);
  const traceDir = `${o.traceDir}/${logId}`;
  const traces = new Map<string, { path: string; id: string }>();
  const results: PointResult[] = [];
  let resumed = 0;
  const todo: { key: string; point: SweepPoint; path: string }[] = [];
  for (const p of points) {
    const tkey = `${p.tenants}/${p.order}/${p.burst}`;
    let tr = traces.get(tkey);
    if (!tr) {
      o.signal?.throwIfAborted();
      tr = await ensureTrace(o, traceDir, p.tenants, p.order, 3 * p.burst);
      traces.set(tkey, tr);
    }
    pointModel(p, o.pageCacheWays); // validate before any work
    const key = pointKey(p, tr.id);
    const prev = done.get(key);
    if (prev) {
      results.push(prev);
      resumed++;
      await o.onPoint?.(prev, true);
    } else {
      todo.push({ key, point: p, path: tr.path });
    }
  }
  const { computed, lost } = await runPool(o, todo, results);
  return { points: results, resumed, computed, lost };
}

async function ensureTrace(o: SweepOptions, dir: string, tenants: number, order: TraceOrder, consec: number) {
  const name = "sweep";
  // The file name carries the tenant count actually found; look for the requested count first.
  const f = traceFiles(dir, name, tenants, order, consec);
  let path = f.iotlb;
  let built = false;
  if (!existsSync(path)) {
    const r = await buildTrace({
      logPrefix: o.logPrefix,
      tenants,
      devicesPerLog: o.devicesPerLog,
      order,
      consec,
      outDir: dir,
      name,
      signal: o.signal,
    });
    path = r.files.iotlb;
    built = true;
  }
  o.onTrace?.(path, built);
  const st = await Deno.stat(path);
  return { path, id: `${path}:${st.size}` };
}

/** This machine's Workers, one point per Worker at a time. */
class WorkerExecutor implements PointExecutor {
  readonly name = "local";
  #workers: Worker[] = [];
  constructor(readonly count: number) {}

  open(): Promise<number> {
    this.#workers = Array.from(
      { length: this.count },
      () => new Worker(new URL("./sweep_worker.ts", import.meta.url), { type: "module" }),
    );
    return Promise.resolve(this.count);
  }

  async run(job: SweepJob, slot: number, signal: AbortSignal): Promise<PointSummary> {
    const w = this.#workers[slot];
    const reply = await new Promise<{ summary?: PointSummary; error?: string }>((resolve) => {
      const onAbort = () => resolve({ error: "cancelled" });
      signal.addEventListener("abort", onAbort, { once: true });
      w.onmessage = (e) => {
        signal.removeEventListener("abort", onAbort);
        resolve(e.data);
      };
      w.onerror = (e) => {
        e.preventDefault();
        signal.removeEventListener("abort", onAbort);
        resolve({ error: e.message });
      };
      w.postMessage({ id: 0, iotlbPath: job.path, config: job.config, options: job.options });
    });
    signal.throwIfAborted();
    if (reply.error || !reply.summary) throw new HyperlabError("model", reply.error ?? "worker gave no summary");
    return reply.summary;
  }

  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}

/**
 * Runs the points on every executor: one queue, each slot takes the next point. A lost executor's points go back
 * to the queue; the pool ends when the queue is empty and nothing is in flight, or fails on a point's own error,
 * cancellation, or when points remain but no executor is left.
 */
async function runPool(
  o: SweepOptions,
  todo: { key: string; point: SweepPoint; path: string }[],
  results: PointResult[],
): Promise<{ computed: number; lost: string[] }> {
  const lost: string[] = [];
  if (todo.length === 0) return { computed: 0, lost };
  const remote = o.executors ?? [];
  const local = o.workers ?? (remote.length ? 0 : navigator.hardwareConcurrency ?? 1);
  if (!Number.isInteger(local) || local < 0 || (local === 0 && remote.length === 0)) {
    throw new InputError("workers", remote.length ? "an integer >= 0" : "an integer >= 1 (no nodes run points)", local);
  }
  const executors: PointExecutor[] = [
    ...(local > 0 ? [new WorkerExecutor(Math.min(local, todo.length))] : []),
    ...remote,
  ];
  const queue: SweepJob[] = todo.map((t) => ({ ...t, ...pointModel(t.point, o.pageCacheWays) }));
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  let computed = 0, inflight = 0;
  let failure: unknown = null;
  const causes: string[] = [];
  let waiters: (() => void)[] = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((r) => waiters.push(r));
  const fail = (e: unknown) => {
    failure ??= e;
    stop.abort(e);
    notify();
  };
  const onAbort = () => fail(o.signal?.reason ?? new HyperlabError("cancelled", "sweep cancelled"));
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener("abort", onAbort, { once: true });

  const runExecutor = async (ex: PointExecutor) => {
    let dead = false;
    const lose = async (e: unknown) => {
      if (dead) return;
      dead = true;
      const err = e instanceof ExecutorLostError
        ? e
        : new ExecutorLostError(ex.name, "error", formatError(e), { cause: e });
      lost.push(ex.name);
      causes.push(err.message);
      notify();
      try {
        await o.onExecutorLost?.(ex.name, err);
      } catch (cbErr) {
        fail(cbErr);
      }
    };
    let slots: number;
    try {
      slots = await ex.open(signal);
    } catch (e) {
      if (!failure) await lose(e);
      return;
    }
    await Promise.all(Array.from({ length: Math.max(0, Math.min(slots, todo.length)) }, async (_, slot) => {
      while (!failure && !dead) {
        const job = queue.shift();
        if (!job) {
          if (inflight === 0) break;
          await changed();
          continue;
        }
        inflight++;
        let summary: PointSummary | undefined;
        try {
          summary = await ex.run(job, slot, signal);
        } catch (e) {
          if (failure) break;
          if (e instanceof ExecutorLostError) {
            queue.unshift(job);
            await lose(e);
          } else {
            fail(
              new HyperlabError("model", `sweep point ${JSON.stringify(job.point)}: ${formatError(e)}`, { cause: e }),
            );
          }
          continue;
        } finally {
          inflight--;
          notify();
        }
        if (failure) break;
        const r: PointResult = { key: job.key, point: job.point, summary };
        if (ex.name !== "local") r.node = ex.name;
        await appendFile(o.journal, JSON.stringify(r) + "\n");
        results.push(r);
        computed++;
        try {
          await o.onPoint?.(r, false);
        } catch (e) {
          fail(e);
        }
      }
    }));
  };
  try {
    await Promise.all(executors.map((ex) => runExecutor(ex)));
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    await Promise.all(executors.map(async (ex) => {
      try {
        await ex.close();
      } catch { /* closing is best effort */ }
    }));
  }
  if (failure) throw failure;
  if (queue.length) {
    throw new HyperlabError(
      "sweep",
      `${queue.length} point(s) not run: every executor failed (${causes.join("; ")})`,
      { hint: "finished points are in the journal: fix the nodes and run the same sweep again (or --retry the run)" },
    );
  }
  return { computed, lost };
}

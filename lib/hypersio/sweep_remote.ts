/**
 * Sweep points on inventory nodes: a {@link PointExecutor} per node for `runSweep({ executors })`.
 *
 * On first use a node gets, each stored under its content hash in the node's cache directory (default
 * `$HOME/.cache/hyperlab`, the agent install of `lib/remote`) and uploaded only when missing:
 * - the Deno executable (the agent install: `ensureAgentInstalled`);
 * - the point runner, `lib/hypersio/sweep_remote_main.ts` bundled into one JavaScript file (`deno bundle`, once per
 *   controller process), so the node needs neither the project's import map nor the npm registry;
 * - each trace a point needs (only its `iotlb_trace.bin`, the one file the model reads), once per node, as
 *   `hypersio-traces/<sha256>.bin`, sha256-checked by the upload.
 *
 * A point then runs as one `deno run --no-config --no-lock --allow-read=<trace> <runner.js>` over the node's SSH
 * connection with the job (trace path, model configuration, run options) on stdin and its summary as JSON on stdout:
 * the same `runModel` + `summarize` as a local Worker, so the numbers are identical (only `modelMs`, the CPU time,
 * differs). Each node runs `slots` points at once (default: its CPU count, at most 8 so sshd's default MaxSessions of
 * 10 leaves room for uploads).
 *
 * A node that fails (connection lost, sshd gone, install failure, a point past `pointTimeoutMs`, the runner killed)
 * throws {@link ExecutorLostError}: the sweep puts its points back in the queue for the other nodes and uses it no
 * more. A point whose model fails (runner exit 3) fails the sweep, as it would locally.
 * @module
 */
import { CancelledError, formatError, HyperlabError, InputError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import { ensureAgentInstalled, RemoteError, type RemoteNode, sha256File, shQuote } from "../remote/mod.ts";
import { ExecutorLostError, type PointExecutor, type SweepJob } from "./sweep.ts";
import { POINT_FAILED_EXIT } from "./sweep_remote_main.ts";
import type { PointSummary } from "./sweep_summary.ts";

/** Options of node executors. */
export interface NodeExecutorOptions {
  /** Points each node runs at once (default: the node's CPU count, at most 8). */
  slots?: number;
  /** A point running longer than this (ms) counts as the node failing (default 30 min). */
  pointTimeoutMs?: number;
  /** Called with progress lines (install, uploads). */
  log?: (node: string, message: string) => void;
}

/** Default per-point time limit on a node (ms). */
export const DEFAULT_POINT_TIMEOUT_MS = 30 * 60_000;
/** Most slots a node gets by default. */
export const MAX_DEFAULT_SLOTS = 8;

let runnerBundle: Promise<{ path: string; sha256: string }> | undefined;

/**
 * The point runner as one JavaScript file (bundled once per process from the source this controller loaded) and
 * its sha256.
 */
export function pointRunnerBundle(): Promise<{ path: string; sha256: string }> {
  runnerBundle ??= (async () => {
    const path = await Deno.makeTempFile({ prefix: "hyperlab-sweep-point-", suffix: ".js" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(path);
      } catch { /* gone */ }
    });
    const args = ["bundle", "--quiet", "lib/hypersio/sweep_remote_main.ts", "-o", path];
    const o = await new Deno.Command(Deno.execPath(), { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped" })
      .output();
    if (!o.success) {
      throw new HyperlabError(
        "bundle",
        `deno bundle of the sweep point runner failed: ${new TextDecoder().decode(o.stderr)}`,
      );
    }
    return { path, sha256: await sha256File(path) };
  })();
  runnerBundle.catch(() => runnerBundle = undefined);
  return runnerBundle;
}

const traceHashes = new Map<string, Promise<string>>();
/** sha256 of a local trace file, computed once per path and size. */
async function traceHash(path: string): Promise<string> {
  const key = `${path}:${(await Deno.stat(path)).size}`;
  let h = traceHashes.get(key);
  if (!h) {
    h = sha256File(path);
    h.catch(() => traceHashes.delete(key));
    traceHashes.set(key, h);
  }
  return h;
}

/** Where a node keeps what points need. */
interface NodePaths {
  deno: string;
  runner: string;
  cacheDir: string;
  slots: number;
}

/** Runs sweep points on one inventory node (see the module documentation). */
export class NodeExecutor implements PointExecutor {
  readonly node: RemoteNode;
  readonly #opts: NodeExecutorOptions;
  #paths?: NodePaths;
  #traces = new Map<string, Promise<string>>();

  constructor(node: RemoteNode, opts: NodeExecutorOptions = {}) {
    if (opts.slots !== undefined && !(Number.isInteger(opts.slots) && opts.slots >= 1)) {
      throw new InputError("nodeWorkers", "an integer >= 1 (points per node at once)", opts.slots);
    }
    if (opts.pointTimeoutMs !== undefined && !(Number.isFinite(opts.pointTimeoutMs) && opts.pointTimeoutMs > 0)) {
      throw new InputError("pointTimeoutMs", "a positive number of milliseconds", opts.pointTimeoutMs);
    }
    this.node = node;
    this.#opts = opts;
  }

  get name(): string {
    return this.node.name;
  }

  /** Installs Deno and the point runner on the node (when missing); resolves with its slot count. */
  async open(signal: AbortSignal): Promise<number> {
    try {
      this.#paths = await this.#install(signal);
      return this.#paths.slots;
    } catch (e) {
      throw this.#lost(e, signal, "install");
    }
  }

  async #install(signal: AbortSignal): Promise<NodePaths> {
    const bundle = await pointRunnerBundle();
    if (this.node.local) {
      const slots = this.#opts.slots ?? Math.min(MAX_DEFAULT_SLOTS, navigator.hardwareConcurrency ?? 1);
      return { deno: Deno.execPath(), runner: bundle.path, cacheDir: "", slots };
    }
    const inst = await ensureAgentInstalled(this.node.connection);
    signal.throwIfAborted();
    const runner = `${inst.cacheDir}/hypersio-point-${bundle.sha256.slice(0, 16)}.js`;
    const state = await this.node.run(
      {
        cmd: `set -- ${shQuote(inst.cacheDir)} ${shQuote(runner)}; nproc; mkdir -p "$1/hypersio-traces"; ` +
          `test -f "$2" && echo have-runner; true`,
      },
      { stream: false, timeout: 30_000, signal },
    );
    const lines = state.stdout.trim().split("\n");
    if (!lines.includes("have-runner")) {
      this.#opts.log?.(this.name, `uploading the sweep point runner (${bundle.sha256.slice(0, 16)})`);
      await this.node.upload(bundle.path, runner, { signal });
    }
    const cpus = Number(lines[0]);
    const slots = this.#opts.slots ?? Math.min(MAX_DEFAULT_SLOTS, Number.isInteger(cpus) && cpus > 0 ? cpus : 1);
    return { deno: inst.deno, runner, cacheDir: inst.cacheDir, slots };
  }

  /** The node's copy of a trace (uploaded once, named by its sha256). */
  #trace(localPath: string, signal: AbortSignal): Promise<string> {
    const paths = this.#paths!;
    if (this.node.local) return Promise.resolve(localPath);
    let p = this.#traces.get(localPath);
    if (!p) {
      p = (async () => {
        const hash = await traceHash(localPath);
        const remote = `${paths.cacheDir}/hypersio-traces/${hash}.bin`;
        const r = await this.node.run(["test", "-f", remote], { check: false, stream: false, timeout: 30_000, signal });
        if (r.exitCode !== 0) {
          this.#opts.log?.(this.name, `uploading trace ${localPath} (sha256 ${hash.slice(0, 16)})`);
          await this.node.upload(localPath, remote, { signal });
        }
        return remote;
      })();
      p.catch(() => this.#traces.delete(localPath));
      this.#traces.set(localPath, p);
    }
    return p;
  }

  /** Runs one point on the node. */
  async run(job: SweepJob, _slot: number, signal: AbortSignal): Promise<PointSummary> {
    const paths = this.#paths;
    if (!paths) throw new ExecutorLostError(this.name, "not-open", "node executor used before open()");
    let r;
    try {
      const trace = await this.#trace(job.path, signal);
      const argv = [paths.deno, "run", "--no-config", "--no-lock", "--quiet", `--allow-read=${trace}`, paths.runner];
      r = await this.node.run(argv, {
        stdin: JSON.stringify({ iotlbPath: trace, config: job.config, options: job.options }),
        env: paths.cacheDir ? { DENO_DIR: `${paths.cacheDir}/deno-dir`, NO_COLOR: "1" } : { NO_COLOR: "1" },
        timeout: this.#opts.pointTimeoutMs ?? DEFAULT_POINT_TIMEOUT_MS,
        check: false,
        stream: false,
        signal,
      });
    } catch (e) {
      throw this.#lost(e, signal, "run");
    }
    const last = r.stdout.trim().split("\n").pop() ?? "";
    let reply: { summary?: PointSummary; error?: string } = {};
    try {
      reply = JSON.parse(last);
    } catch { /* not the runner's line: handled below */ }
    if (r.exitCode === 0 && reply.summary) return reply.summary;
    if (r.exitCode === POINT_FAILED_EXIT && typeof reply.error === "string") {
      throw new HyperlabError("model", reply.error);
    }
    const how = r.exitCode === null ? `killed by signal ${r.signal ?? "?"}` : `exited with status ${r.exitCode}`;
    throw new ExecutorLostError(
      this.name,
      "exit",
      `point runner ${how}${r.stderr.trim() ? `: ${r.stderr.trim().slice(-400)}` : ""}`,
    );
  }

  /** The error to throw for a failure of the node (or the cancellation itself). */
  #lost(e: unknown, signal: AbortSignal, stage: string): Error {
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new CancelledError();
    if (e instanceof ExecutorLostError || e instanceof CancelledError) return e;
    const reason = e instanceof RemoteError ? e.reason : stage;
    return new ExecutorLostError(this.name, reason, formatError(e), { cause: e });
  }

  close(): void {
    // The node's connection belongs to its Cluster (closed with the run); nothing else is held.
  }
}

/** One executor per node, in inventory order. */
export function nodeExecutors(nodes: readonly RemoteNode[], opts: NodeExecutorOptions = {}): NodeExecutor[] {
  if (nodes.length === 0) throw new InputError("inventory", "at least one node (check --limit)", nodes.length);
  return nodes.map((n) => new NodeExecutor(n, opts));
}

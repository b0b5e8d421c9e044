/**
 * Starting memory servers as processes: locally as a child process (tests, benchmarks, single-node labs), or on a
 * node through the command line `serverCommand` returns (the cluster layer runs it over SSH). Under `--dry-run` the
 * start is recorded in the plan and nothing runs.
 * @module
 */
import { fileURLToPath } from "node:url";
import { effect } from "../core/ambient.ts";
import { HyperlabError, InputError, TimeoutError } from "../core/errors.ts";

/** How to start a server process. */
export interface ServerProcessOptions {
  /** Pool size, e.g. `1G` or a byte count. */
  pool: string | number;
  /** Address to listen on. */
  host?: string;
  /** Port; 0 picks a free one. */
  port?: number;
  /** Page size in bytes. */
  pageSize?: number;
  /** Also serve the verbs (RDMA) transport. */
  verbs?: boolean;
  /** Path of the deno executable on the target (default: this process's). */
  deno?: string;
  /** Project root on the target (default: this checkout). */
  projectRoot?: string;
}

/** A memory server running as a child process. `await using` stops it. */
export interface ServerProcess extends AsyncDisposable {
  /** `host:port` clients connect to. */
  readonly endpoint: string;
  /** Process id. */
  readonly pid: number;
  /** Kills the process with `signal` (SIGKILL simulates a crashed node) and waits for it to exit. */
  kill(signal?: Deno.Signal): Promise<void>;
}

const SERVER_MAIN = fileURLToPath(new URL("./server_main.ts", import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The argv that starts a memory server, for running on a node (first element is the deno executable). */
export function serverCommand(o: ServerProcessOptions): string[] {
  if (!(typeof o.pool === "number" ? o.pool > 0 : /^\d+[KMGT]?$/i.test(o.pool))) {
    throw new InputError("pool", "a positive byte count or a size like 1G", o.pool, { where: "rmem server" });
  }
  const root = o.projectRoot ?? PROJECT_ROOT;
  const main = o.projectRoot ? `${root.replace(/\/$/, "")}/lib/rmem/server_main.ts` : SERVER_MAIN;
  const args = [o.deno ?? Deno.execPath(), "run", "-A", "--quiet", main, "--pool", String(o.pool)];
  if (o.host !== undefined) args.push("--host", o.host);
  if (o.port !== undefined) args.push("--port", String(o.port));
  if (o.pageSize !== undefined) args.push("--page-size", String(o.pageSize));
  if (o.verbs) args.push("--verbs");
  return args;
}

/** Starts a memory server as a child process and waits (up to `timeoutMs`) until it listens. */
export function startServerProcess(o: ServerProcessOptions, timeoutMs = 15000): Promise<ServerProcess> {
  const argv = serverCommand(o);
  return effect(
    { kind: "process", target: "localhost", action: argv.join(" ") },
    () => spawn(argv, timeoutMs),
    () => dryProcess(o),
  );
}

async function spawn(argv: string[], timeoutMs: number): Promise<ServerProcess> {
  const child = new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const status = child.status;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const errText = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let text = "";
  const kill = async (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch { /* already exited */ }
    await status;
    await reader.cancel().catch(() => {});
  };
  try {
    const endpoint = await Promise.race([
      (async () => {
        while (true) {
          const { value, done } = await reader.read();
          if (done) {
            const st = await status;
            throw new HyperlabError("rmem-server", `rmem server exited with ${st.code}: ${(await errText).trim()}`);
          }
          text += value;
          const line = text.split("\n").find((l) => l.includes('"listening"'));
          if (line) return JSON.parse(line).endpoint as string;
        }
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError("start rmem server", timeoutMs)), timeoutMs);
      }),
    ]);
    return { endpoint, pid: child.pid, kill, [Symbol.asyncDispose]: () => kill() };
  } catch (e) {
    await kill("SIGKILL");
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function dryProcess(o: ServerProcessOptions): ServerProcess {
  return {
    endpoint: `${o.host ?? "127.0.0.1"}:${o.port ?? 0}`,
    pid: 0,
    kill: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

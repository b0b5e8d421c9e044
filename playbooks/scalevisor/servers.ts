/**
 * Memory servers for the experiment: local child processes (no inventory), or processes on inventory nodes started
 * over SSH. A node gets the Deno executable (the agent install, cached by content hash in `$HOME/.cache/hyperlab`)
 * and the memory server bundled into one JavaScript file (`deno bundle lib/rmem/server_main.ts`, so the node needs
 * neither the project's import map nor the npm registry); the server runs detached (`setsid nohup`), listens on the
 * node's inventory address, and is stopped by the run's deferred cleanup. Under `--dry-run` the exact start command
 * is planned with `<deno>` and `<rmem-server.js>` standing for the node's cached paths.
 * @module
 */
import { join } from "node:path";
import { effect } from "../../lib/core/ambient.ts";
import { HyperlabError } from "../../lib/core/errors.ts";
import { PROJECT_ROOT } from "../../lib/core/provenance.ts";
import { startServerProcess } from "../../lib/rmem/mod.ts";
import { InputError } from "../../lib/core/errors.ts";
import { loadInventory } from "../../lib/inventory/mod.ts";
import { connectCluster, ensureAgentInstalled, type RemoteNode, shQuote } from "../../lib/remote/mod.ts";

/** A started memory server. */
export interface MemoryServer {
  /** Where it runs: `localhost` or the node's name. */
  node: string;
  /** `host:port` the host's rmem client connects to. */
  endpoint: string;
  /** Process id on its machine (0 under --dry-run). */
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL); idempotent. `signal: "SIGKILL"` simulates a crashed node. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
}

/** Starts `count` memory servers as local child processes listening on 127.0.0.1. */
export async function startLocalServers(count: number, pool: string): Promise<MemoryServer[]> {
  const out: MemoryServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const p = await startServerProcess({ pool });
      const endpoint = p.pid === 0 ? "127.0.0.1:<port>" : p.endpoint; // <port>: planned under --dry-run
      out.push({ node: "localhost", endpoint, pid: p.pid, stop: (s) => p.kill(s) });
    }
  } catch (e) {
    await Promise.all(out.map((s) => s.stop()));
    throw e;
  }
  return out;
}

/** The memory server as one JavaScript file (no import map needed), written to `outFile`. */
export async function bundleServer(outFile: string): Promise<string> {
  const args = ["bundle", "--quiet", "lib/rmem/server_main.ts", "-o", outFile];
  return await effect(
    { kind: "process", target: "localhost", action: `deno ${args.join(" ")}` },
    async () => {
      const o = await new Deno.Command(Deno.execPath(), { args, cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped" })
        .output();
      if (!o.success) {
        throw new HyperlabError(
          "bundle",
          `deno bundle of the rmem server failed: ${new TextDecoder().decode(o.stderr)}`,
        );
      }
      return outFile;
    },
    () => outFile,
  );
}

/** Shell script that starts a detached memory server and waits (up to 30 s) until it prints its endpoint. */
export function serverStartScript(
  o: { dir: string; deno: string; bundle: string; pool: string; host: string },
): string {
  const cmd = [o.deno, "run", "--no-config", "--no-lock", "-A", "--quiet", o.bundle, "--pool", o.pool, "--host", o.host]
    .map((w) => w.startsWith("<") ? w : shQuote(w)).join(" ");
  return [
    "set -e",
    `cd ${o.dir.startsWith("<") ? o.dir : shQuote(o.dir)}`,
    "log=$(mktemp rmem-server.XXXXXX.log)",
    `DENO_DIR="$PWD/deno-dir" NO_COLOR=1 setsid nohup ${cmd} --port 0 >"$log" 2>&1 </dev/null &`,
    "pid=$!",
    "i=0",
    `while ! grep -q '"listening"' "$log"; do`,
    `  kill -0 $pid 2>/dev/null || { echo "rmem server exited: $(tail -c 600 "$log")" >&2; exit 1; }`,
    `  i=$((i+1)); [ $i -le 300 ] || { kill $pid; echo "rmem server did not listen within 30 s" >&2; exit 1; }`,
    "  sleep 0.1",
    "done",
    'echo "pid=$pid log=$PWD/$log"',
    `grep '"listening"' "$log"`,
  ].join("\n");
}

/** Shell script that stops a server started by {@link serverStartScript}. */
export function serverStopScript(pid: number, log: string, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): string {
  return [
    `kill -${signal.slice(3)} ${pid} 2>/dev/null || true`,
    `i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done`,
    `kill -KILL ${pid} 2>/dev/null || true`,
    `rm -f ${shQuote(log)}`,
  ].join("\n");
}

/**
 * Starts one memory server on each node (in parallel). `bundle` is the local path of {@link bundleServer}'s
 * output. The pool is each server's export size.
 */
export async function startNodeServers(nodes: RemoteNode[], pool: string, bundle: string): Promise<MemoryServer[]> {
  const settled = await Promise.allSettled(nodes.map((n) => startOnNode(n, pool, bundle)));
  const started = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const failed = settled.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) {
    await Promise.all(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

async function startOnNode(node: RemoteNode, pool: string, bundle: string): Promise<MemoryServer> {
  const host = node.local ? "127.0.0.1" : node.spec.host;
  const paths = await effect(
    {
      kind: "file",
      target: node.name,
      action: "install deno and rmem-server.js (bundle of lib/rmem/server_main.ts) into $HOME/.cache/hyperlab",
    },
    async () => {
      if (node.local) return { dir: join(bundle, ".."), deno: Deno.execPath(), bundle };
      const inst = await ensureAgentInstalled(node.connection);
      const remote = `${inst.cacheDir}/rmem-server-${(await sha256(bundle)).slice(0, 16)}.js`;
      await node.upload(bundle, remote);
      return { dir: inst.cacheDir, deno: inst.deno, bundle: remote };
    },
    () => ({ dir: "<cache>", deno: "<deno>", bundle: "<rmem-server.js>" }),
  );
  const r = await node.run({ cmd: serverStartScript({ ...paths, pool, host }) }, { timeout: 60_000, stream: false });
  if (r.dryRun) {
    const stop = () => Promise.resolve();
    return { node: node.name, endpoint: `${host}:<port>`, pid: 0, stop };
  }
  const m = /pid=(\d+) log=(\S+)/.exec(r.stdout);
  const listening = r.stdout.split("\n").find((l) => l.includes('"listening"'));
  if (!m || !listening) {
    throw new HyperlabError("rmem-server", `${node.name}: memory server gave no endpoint: ${r.stdout.slice(-300)}`);
  }
  const pid = Number(m[1]), log = m[2];
  let stopped: Promise<void> | undefined;
  return {
    node: node.name,
    endpoint: JSON.parse(listening).endpoint,
    pid,
    stop: (signal) =>
      stopped ??= node.run({ cmd: serverStopScript(pid, log, signal) }, {
        timeout: 20_000,
        stream: false,
        check: false,
      })
        .then(() => {}),
  };
}

async function sha256(path: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Starts the experiment's memory servers: `servers` local processes without an inventory, else one on each of the
 * first `servers` nodes the inventory (and `limit`) selects. `namespaces` is true when those nodes are lab nodes
 * (network namespaces of this host, recognised by their `netns` var), whose memory is this machine's.
 */
export async function startMemoryServers(o: {
  inventory?: string;
  limit?: string;
  servers: number;
  poolPerServer: string;
  runDir: string;
  secret: (value: string) => void;
}): Promise<{ servers: MemoryServer[]; namespaces: boolean }> {
  if (!o.inventory) return { servers: await startLocalServers(o.servers, o.poolPerServer), namespaces: false };
  const inv = await loadInventory(o.inventory, o.limit);
  for (const s of inv.secrets()) o.secret(s);
  const cluster = connectCluster(inv);
  if (cluster.nodes.length < o.servers) {
    const by = o.limit ? ` by --limit ${o.limit}` : "";
    throw new InputError(
      "--servers",
      `at most the ${cluster.nodes.length} node(s) selected from ${o.inventory}${by}`,
      o.servers,
    );
  }
  const nodes = cluster.nodes.slice(0, o.servers);
  const bundle = await bundleServer(join(o.runDir, "rmem-server.js"));
  return {
    servers: await startNodeServers(nodes, o.poolPerServer, bundle),
    namespaces: nodes.every((n) => typeof n.spec.vars.netns === "string"),
  };
}

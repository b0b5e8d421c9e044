/**
 * Standalone memory server: `deno task rmem-server --pool 1G [--host 0.0.0.0] [--port 7400] [--page-size 4096]
 * [--verbs]` (`--verbs` also serves the RDMA transport; it needs an RDMA device).
 * Prints one JSON line `{"event":"listening","endpoint":…,"poolBytes":…}` once it accepts connections, so a
 * playbook step that starts it on a node can read where it listens; stops on SIGINT/SIGTERM.
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { RmemServer } from "./server.ts";
import { parseSize } from "./size.ts";
import { exitOnStopSignal } from "../core/stop_signals.ts";

const USAGE = "usage: deno task rmem-server --pool <size> [--host 127.0.0.1] [--port 0] [--page-size 4096] [--verbs]";

function main(argv: string[]): Promise<void> | void {
  const { values } = parseArgs({
    args: argv,
    options: {
      pool: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      "page-size": { type: "string", default: "4096" },
      verbs: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return console.log(USAGE);
  if (!values.pool) throw new InputError("--pool", "a pool size like 1G", undefined, { hint: USAGE });
  const port = Number(values.port);
  if (!Number.isInteger(port)) throw new InputError("--port", "an integer port", values.port);
  const server = RmemServer.start({
    host: values.host,
    port,
    poolBytes: parseSize(values.pool, "--pool"),
    pageSize: parseSize(values["page-size"], "--page-size"),
    verbs: values.verbs,
  });
  console.log(JSON.stringify({ event: "listening", endpoint: server.endpoint, poolBytes: server.pool.bytes.length }));
  exitOnStopSignal(() => server.close());
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`rmem-server: ${formatError(e)}`);
    Deno.exit(2);
  }
}

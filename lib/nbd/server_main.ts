/**
 * Standalone remote-memory disk: `deno task nbd-server --rmem host:port[,host:port…] --size 512M [--export swap]
 * [--host 127.0.0.1] [--port 10809] [--bytes-per-server <size>] [--merge]`. Connects to the memory servers, serves
 * an NBD export whose blocks live in their memory, prints `{"event":"listening","url":…}` and, when a memory server
 * dies, `{"event":"lost",…}` with the lost block count on stderr. Stops on SIGINT/SIGTERM, printing
 * `{"event":"stopped","blocks":…,"allocated":…,"lost":…}` (where the disk's blocks were).
 * @module
 */
import { parseArgs } from "node:util";
import { formatError, InputError } from "../core/errors.ts";
import { parseSize, RmemClient } from "../rmem/mod.ts";
import { RmemBlockDevice } from "./rmem_device.ts";
import { NbdServer } from "./server.ts";
import { exitOnStopSignal } from "../core/stop_signals.ts";

const USAGE = "usage: deno task nbd-server --rmem host:port[,host:port] --size <size> [--export swap] " +
  "[--host 127.0.0.1] [--port 10809] [--bytes-per-server <size>] [--merge]";

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rmem: { type: "string" },
      size: { type: "string" },
      export: { type: "string", default: "swap" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "10809" },
      "bytes-per-server": { type: "string" },
      merge: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return console.log(USAGE);
  if (!values.rmem) {
    throw new InputError("--rmem", "memory servers as host:port[,host:port]", undefined, { hint: USAGE });
  }
  if (!values.size) throw new InputError("--size", "a disk size like 512M", undefined, { hint: USAGE });
  const size = parseSize(values.size, "--size");
  const servers = values.rmem.split(",").filter(Boolean);
  const perServer = values["bytes-per-server"]
    ? parseSize(values["bytes-per-server"], "--bytes-per-server")
    : Math.ceil(size / servers.length / 4096) * 4096;
  const port = Number(values.port);
  if (!Number.isInteger(port)) throw new InputError("--port", "an integer port", values.port);
  const client = await RmemClient.connect({ servers, bytesPerServer: perServer, merge: values.merge });
  const device = new RmemBlockDevice(client, size);
  client.onLoss((l) =>
    console.error(
      JSON.stringify({ event: "lost", server: l.server, reason: l.reason, blocks: device.lostBlocks().length }),
    )
  );
  const nbd = NbdServer.start({ host: values.host, port, exports: { [values.export]: device } });
  console.log(JSON.stringify({ event: "listening", url: nbd.url(values.export), size, servers }));
  exitOnStopSignal(async () => {
    await nbd.close();
    console.log(JSON.stringify({ event: "stopped", ...device.usage() }));
    await client.close();
  });
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`nbd-server: ${formatError(e)}`);
    Deno.exit(2);
  }
}

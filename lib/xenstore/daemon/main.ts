/**
 * `deno task xenstored [--socket PATH] [--domain DOMID=PATH ...] [--verbose]`: runs the embedded xenstored in the
 * foreground until Ctrl-C. Point Xen's tools at it with `XENSTORED_PATH=PATH xenstore-ls`.
 * @module
 */
import { parseArgs } from "node:util";
import { InputError } from "../../core/errors.ts";
import { EmbeddedXenstored } from "./server.ts";

/** Default socket of the standalone daemon. */
export const DEFAULT_SOCKET = "/tmp/hyperlab-xenstored.sock";

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      socket: { type: "string", default: DEFAULT_SOCKET },
      domain: { type: "string", multiple: true, default: [] },
      verbose: { type: "boolean", default: false },
    },
  });
  const daemon = await EmbeddedXenstored.start({
    socketPath: values.socket,
    log: values.verbose ? (l) => console.error(l) : undefined,
  });
  for (const spec of values.domain) {
    const m = /^(\d+)=(.+)$/.exec(spec);
    if (!m) throw new InputError("--domain", "DOMID=SOCKET_PATH", spec);
    await daemon.listenDomain(Number(m[1]), m[2]);
    console.error(`xenstored: domain ${m[1]} on ${m[2]}`);
  }
  console.error(`xenstored: listening on ${values.socket} (XENSTORED_PATH=${values.socket}); Ctrl-C stops`);
  const stop = async () => {
    await daemon.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

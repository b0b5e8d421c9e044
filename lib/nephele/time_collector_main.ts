/**
 * Standalone UDP time collector (run it on a dom0 the controller cannot be): prints one JSON line per distinct
 * report on stdout. `deno run --allow-net lib/nephele/time_collector_main.ts [--port 32764] [--host 0.0.0.0]`
 * @module
 */
import { parseArgs } from "node:util";
import { TimeCollector } from "./time_collector.ts";
import { exitOnStopSignal } from "../core/stop_signals.ts";

if (import.meta.main) {
  const { values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" } } });
  const port = values.port === undefined ? 32764 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port: expected an integer 0..65535 (got ${JSON.stringify(values.port)})`);
    Deno.exit(2);
  }
  const c = await TimeCollector.start({
    hostname: values.host ?? "0.0.0.0",
    port,
    onReport: (r) => console.log(JSON.stringify(r)),
  });
  console.error(`time collector listening on ${c.address.address}:${c.address.port}`);
  exitOnStopSignal(() => c.close());
}

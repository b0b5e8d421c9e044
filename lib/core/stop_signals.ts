/**
 * How long-running service processes (memory servers, NBD server, xenstored, BMC simulator, time collector) stop:
 * on SIGTERM or SIGINT they run their shutdown once and exit 0.
 * @module
 */

/** Runs `shutdown` on the first SIGTERM or SIGINT (later signals are ignored while it runs), then exits 0. */
export function exitOnStopSignal(shutdown: () => Promise<unknown> | unknown): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}

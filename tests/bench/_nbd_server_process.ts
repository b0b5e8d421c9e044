/**
 * Our NBD server as its own process (`lib/nbd/server_main.ts`, what `deno task nbd-server` runs), so that in the nbd
 * benchmark it stands where nbdkit stands: one server process, its CPU time its own.
 * @module
 */
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../lib/nbd/server_main.ts", import.meta.url));

/** Where the disk's blocks were when the server stopped. */
export interface NbdUsage {
  blocks: number;
  allocated: number;
  lost: number;
}

/** A running NBD server process. */
export interface NbdServerProcess {
  /** `nbd://…/disk` of the export. */
  url: string;
  pid: number;
  /** Stops the server (SIGTERM) and returns its last usage report. */
  stop(): Promise<NbdUsage | null>;
}

/** Starts an NBD server process serving export `disk` of `size` bytes from the memory server at `rmem`. */
export async function startNbdServerProcess(rmem: string, size: number): Promise<NbdServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "--rmem", rmem, "--size", String(size), "--export", "disk", "--port", "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const nextEvent = async (event: string): Promise<Record<string, unknown> | null> => {
    while (true) {
      const line = text.split("\n").find((l) => l.includes(`"event":"${event}"`));
      if (line) return JSON.parse(line);
      const { value, done } = await lines.read();
      if (done) return null;
      text += value;
    }
  };
  const listening = await nextEvent("listening");
  if (!listening) {
    await child.status;
    throw new Error("nbd server process exited before listening");
  }
  return {
    url: String(listening.url),
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const stopped = await nextEvent("stopped");
      await child.status;
      await lines.cancel().catch(() => {});
      return stopped as NbdUsage | null;
    },
  };
}

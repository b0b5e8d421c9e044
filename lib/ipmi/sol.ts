/** Serial-over-LAN console capture through `ipmitool sol activate`. */
import { currentRun } from "../core/ambient.ts";
import { type BmcTarget, IpmiError, ipmitool, spawnIpmitool } from "./ipmitool.ts";

/** How long and until what to capture. */
export interface SolCaptureOptions {
  /** Stop after this many ms at the latest. */
  durationMs: number;
  /** Stop as soon as the captured text matches (e.g. a boot marker). */
  until?: RegExp;
  /** Log each console line to the run (source = node), default true inside a run. */
  stream?: boolean;
  /** Bytes kept (tail), default 1 MiB. */
  maxBytes?: number;
}

/** Captures console output; returns it without ipmitool's banner. Ends the SOL session in all cases. */
export async function captureSol(t: BmcTarget, opts: SolCaptureOptions): Promise<string> {
  // A stale session (an earlier capture killed mid-way) would make activation fail.
  await ipmitool(t, ["sol", "deactivate"]).catch(() => {});
  const child = spawnIpmitool(t, ["sol", "activate"], "piped");
  const writer = child.stdin.getWriter();
  const run = currentRun();
  const stream = opts.stream ?? true;
  const max = opts.maxBytes ?? 1 << 20;
  let text = "";
  let pending = "";
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  const timer = setTimeout(done, opts.durationMs);
  const reader = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      const s = dec.decode(chunk, { stream: true });
      text = (text + s).slice(-max);
      if (stream && run) {
        const lines = (pending + s).split(/\r?\n/);
        pending = lines.pop() ?? "";
        for (const l of lines) if (l.trim() && !l.startsWith("[SOL Session")) run.log.info(l, t.node);
      }
      if (opts.until?.test(text)) done();
    }
    done();
  })();
  const errText = new Response(child.stderr).text();
  await finished;
  clearTimeout(timer);
  await writer.write(new TextEncoder().encode("~.")).catch(() => {});
  await writer.close().catch(() => {});
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, 2000);
  const status = await child.status;
  clearTimeout(killer);
  await reader;
  const err = await errText;
  const body = text.replace(/^\[SOL Session operational[^\n]*\n/, "").replace(/~\. \[terminated ipmitool\]\s*$/, "");
  if (!status.success && !/SOL Session operational/.test(text)) {
    throw new IpmiError(t.node, "sol activate", err.trim().split("\n").slice(-2).join("; ") || `exit ${status.code}`);
  }
  return body;
}

/**
 * Running a command on the controller's own machine (inventory `local: true`) with the same semantics as over SSH:
 * `/bin/sh -c`, its own session and process group (setsid) killed on timeout or abort, bounded output.
 * @module
 */
import { CancelledError } from "../core/errors.ts";
import { CommandError, RemoteTimeoutError } from "./errors.ts";
import { type CommandResult, type ExecOptions, killScript, wrapWithMarker } from "./exec.ts";
import { OutputCapture } from "./output.ts";

async function pump(stream: ReadableStream<Uint8Array>, cap: OutputCapture): Promise<void> {
  for await (const chunk of stream) cap.push(chunk);
  cap.end();
}

/** Runs `commandLine` locally. Same result and errors as execCommand; `node` names the local node. */
export async function execLocal(node: string, commandLine: string, opts: ExecOptions = {}): Promise<CommandResult> {
  if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new CancelledError();
  const id = crypto.randomUUID();
  const started = performance.now();
  const child = new Deno.Command("setsid", {
    args: ["-w", "/bin/sh", "-c", wrapWithMarker(commandLine, id, opts.script)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new OutputCapture({
    maxBytes: opts.maxOutputBytes,
    onLine: opts.onLine && ((l) => opts.onLine!(l, "stdout")),
  });
  const err = new OutputCapture({
    maxBytes: opts.maxOutputBytes,
    onLine: opts.onLine && ((l) => opts.onLine!(l, "stderr")),
  });
  const pumps = Promise.all([pump(child.stdout, out), pump(child.stderr, err)]);
  const w = child.stdin.getWriter();
  if (opts.stdin !== undefined) {
    await w.write(typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin).catch(() => {});
  }
  await w.close().catch(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<"timeout" | "abort">((resolve) => {
    if (opts.timeout !== undefined) timer = setTimeout(() => resolve("timeout"), opts.timeout);
    onAbort = () => resolve("abort");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
  });
  const how = await Promise.race([child.status, interrupted]);
  clearTimeout(timer);
  if (onAbort) opts.signal?.removeEventListener("abort", onAbort);
  if (how === "timeout" || how === "abort") {
    await new Deno.Command("/bin/sh", { args: ["-c", killScript(id, opts.sudo)] }).output();
    await child.status;
    await pumps;
    if (how === "timeout") {
      throw new RemoteTimeoutError(node, `command ${commandLine.slice(0, 120)}`, opts.timeout!, err.tail(400));
    }
    throw opts.signal?.reason instanceof Error ? opts.signal.reason : new CancelledError();
  }
  await pumps;
  const r: CommandResult = {
    node,
    exitCode: how.signal ? null : how.code,
    signal: how.signal ?? undefined,
    stdout: out.text(),
    stderr: err.text(),
    stdoutBytes: out.totalBytes,
    stderrBytes: err.totalBytes,
    durationMs: performance.now() - started,
  };
  if (opts.check !== false && r.exitCode !== 0) {
    throw Object.assign(new CommandError(node, commandLine, r.exitCode, r.signal, err.tail(2000)), { result: r });
  }
  return r;
}

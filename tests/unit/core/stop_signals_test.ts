/** exitOnStopSignal: the first SIGTERM or SIGINT runs the shutdown once, then the process exits 0. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MODULE = fileURLToPath(new URL("../../../lib/core/stop_signals.ts", import.meta.url));

/** A child that prints "ready", and on a stop signal prints "shutdown" after a short async delay. */
function child() {
  const src = `import { exitOnStopSignal } from ${JSON.stringify(MODULE)};
exitOnStopSignal(async () => { await new Promise((r) => setTimeout(r, 100)); console.log("shutdown"); });
console.log("ready");
setInterval(() => {}, 1000);`;
  return new Deno.Command(Deno.execPath(), { args: ["eval", src], stdout: "piped", stderr: "piped" }).spawn();
}

async function untilReady(p: Deno.ChildProcess): Promise<ReadableStreamDefaultReader<string>> {
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.equal(first.value?.trim(), "ready");
  return reader;
}

async function rest(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
  return text;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`exitOnStopSignal: ${signal} runs the shutdown once (a second signal meanwhile is ignored), exit 0`, async () => {
    const p = child();
    const reader = await untilReady(p);
    p.kill(signal);
    await new Promise((r) => setTimeout(r, 20));
    p.kill(signal);
    const [status, out] = await Promise.all([p.status, rest(reader)]);
    await p.stderr.cancel();
    assert.equal(status.code, 0);
    assert.equal(out.trim().split("\n").filter((l) => l === "shutdown").length, 1);
  });
}

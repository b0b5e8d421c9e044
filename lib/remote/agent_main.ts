/**
 * The node agent's entry point: started by the controller over SSH, it reads requests from stdin (one JSON per
 * line), runs them with `callOp`, and writes responses to stdout. It exits when stdin closes (controller gone or
 * connection lost), so no agent outlives its controller. Anything printed by operations goes to stderr.
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { callOp } from "./agent_ops.ts";
import { AGENT_PROTOCOL_VERSION, encodeError } from "./agent_wire.ts";

const enc = new TextEncoder();
async function send(msg: unknown): Promise<void> {
  const bytes = enc.encode(JSON.stringify(msg) + "\n");
  for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
}

if (import.meta.main) {
  console.log = console.error; // stdout carries the protocol only
  console.info = console.error;
  await send({ hello: "hyperlab-agent", version: AGENT_PROTOCOL_VERSION, pid: Deno.pid });
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const pending = new Set<Promise<void>>();
  for await (const line of rl) {
    if (!line.trim()) continue;
    let req: { id?: unknown; op?: unknown; args?: unknown };
    try {
      req = JSON.parse(line);
    } catch {
      await send({
        id: null,
        ok: false,
        error: { name: "InputError", message: "request is not JSON", field: "(line)" },
      });
      continue;
    }
    const p = (async () => {
      try {
        const value = await callOp(String(req.op), req.args);
        await send({ id: req.id, ok: true, value });
      } catch (e) {
        await send({ id: req.id, ok: false, error: encodeError(e) });
      }
    })();
    pending.add(p);
    p.finally(() => pending.delete(p));
  }
  await Promise.all(pending);
  Deno.exit(0);
}

import assert from "node:assert/strict";
import { processAlive } from "../../../lib/core/process.ts";

Deno.test("processAlive: this process yes; an exited child, pid 0 and nonsense no", async () => {
  assert.equal(processAlive(Deno.pid), true);
  const child = new Deno.Command("true").spawn();
  await child.status;
  assert.equal(processAlive(child.pid), false);
  for (const pid of [0, -1, null, undefined, 1.5]) assert.equal(processAlive(pid as number), false);
});

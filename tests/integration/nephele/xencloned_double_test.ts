/**
 * xencloned management against a named test double (tests/fixtures/doubles/nephele/xencloned) on a local node:
 * start, wait for the ring line, reset a stale enable with -R, stop. And the TCP fork trigger against a real
 * listener standing in for measure-fork's port.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { sendForkFromController, startXencloned } from "../../../lib/nephele/mod.ts";
import { RemoteNode } from "../../../lib/remote/mod.ts";
import { ROOT } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

const DOUBLE = join(ROOT, "tests/fixtures/doubles/nephele/xencloned");

function localNode(): RemoteNode {
  return new RemoteNode(parseInventoryYaml("nodes:\n  - { name: here, host: 127.0.0.1, local: true }\n").nodes[0]);
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

Deno.test("xencloned (test double): start, ring line, stale enable reset with -R, stop", async () => {
  using d = tempDir();
  const state = join(d.path, "enabled");
  Deno.env.set("XENCLONED_DOUBLE_STATE", state);
  const node = localNode();
  const log = join(d.path, "xencloned.log");
  try {
    const a = await startXencloned(node, { path: DOUBLE, cache: true, sharingPool: true, ringPages: 2 }, {
      log,
      timeoutMs: 5000,
    });
    assert.deepEqual(a.ring, { ring: "0x7f0000001000", entries: 256 });
    assert.equal(a.reset, false);
    assert.ok(a.pid > 0);
    await a.stop();
    assert.ok(await gone(a.pid), "stopped");

    // A stale enable (an earlier xencloned died without disabling): EBUSY, then -R, then a clean start.
    Deno.writeTextFileSync(state, "stale\n");
    const b = await startXencloned(node, { path: DOUBLE }, { log, timeoutMs: 5000 });
    assert.equal(b.reset, true);
    assert.equal(b.ring?.entries, 128);
    assert.match(Deno.readTextFileSync(log), /notification ring=/);
    await b.stop();
    assert.ok(await gone(b.pid));
    assert.ok(!existsSync(state));
  } finally {
    Deno.env.delete("XENCLONED_DOUBLE_STATE");
    node.close();
  }
});

Deno.test("xencloned that dies before enabling is reported with its log", async () => {
  using d = tempDir();
  const node = localNode();
  try {
    await assert.rejects(
      startXencloned(node, { path: "/bin/false" }, { log: join(d.path, "x.log"), timeoutMs: 3000 }),
      /xencloned on here exited before enabling cloning/,
    );
  } finally {
    node.close();
  }
});

Deno.test("TCP fork trigger reaches a listener with the bytes `fork`; a closed port is named", async () => {
  const got: string[] = [];
  const server = createServer((s) => {
    let buf = "";
    s.on("data", (b) => buf += b.toString());
    s.on("end", () => got.push(buf));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  try {
    await sendForkFromController("127.0.0.1", port);
    await sendForkFromController("127.0.0.1", port);
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ["fork", "fork"]);
  } finally {
    await new Promise((r) => server.close(r));
  }
  await assert.rejects(
    sendForkFromController("127.0.0.1", port),
    new RegExp(`fork message to 127.0.0.1:${port}: .*ECONNREFUSED`),
  );
});

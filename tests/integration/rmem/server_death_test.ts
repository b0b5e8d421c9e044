/** A memory server process killed mid-experiment: affected reads fail loudly, the client says what was lost. */
import assert from "node:assert/strict";
import {
  type LostMemory,
  RemoteMemoryLostError,
  RmemClient,
  RmemServer,
  startServerProcess,
} from "../../../lib/rmem/mod.ts";

Deno.test("rmem: SIGKILL of a server process fails its reads (never zeros) and reports the lost pages", async () => {
  await using victim = await startServerProcess({ pool: "4M" });
  await using survivor = RmemServer.start({ poolBytes: 4 << 20 });
  await using client = await RmemClient.connect({
    servers: [victim.endpoint, survivor.endpoint],
    bytesPerServer: 1 << 20,
  });
  const losses: LostMemory[] = [];
  client.onLoss((l) => losses.push(l));
  const regions = Array.from({ length: 20 }, (_, i) => client.alloc(i % 2 ? 4096 : 8192));
  await Promise.all(regions.map((r, i) => client.write(r, 0, new Uint8Array(r.remote_len).fill(i + 1))));
  const onVictim = regions.filter((r) => r.server === victim.endpoint);
  assert.equal(onVictim.length, 10);

  // reads in flight while the server dies: each either returns the real bytes or fails with the typed error
  const inflight = regions.map((r, i) =>
    client.read(r).then((d) => ({ ok: d.every((b) => b === i + 1) && d.length === r.remote_len }), (e) => ({ e }))
  );
  await victim.kill("SIGKILL");
  for (const [i, res] of (await Promise.all(inflight)).entries()) {
    if ("ok" in res) assert.ok(res.ok, `read ${i} returned wrong data`);
    else assert.ok(res.e instanceof RemoteMemoryLostError && regions[i].server === victim.endpoint, String(res.e));
  }

  const deadline = Date.now() + 5000;
  while (losses.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const r of onVictim) {
    await assert.rejects(
      client.read(r),
      (e) => e instanceof RemoteMemoryLostError && e.server === victim.endpoint && /was on it/.test(e.message),
    );
    await assert.rejects(client.write(r, 0, new Uint8Array(1)), RemoteMemoryLostError);
    assert.ok(client.isLost(r));
  }
  for (const r of regions.filter((r) => r.server === survivor.endpoint)) {
    const i = regions.indexOf(r);
    assert.ok((await client.read(r)).every((b) => b === i + 1), "survivor's data intact");
  }
  const lost = client.lostPages();
  assert.equal(lost.length, 1);
  assert.deepEqual(losses, lost);
  assert.equal(lost[0].server, victim.endpoint);
  assert.deepEqual(new Set(lost[0].regions), new Set(onVictim));
  assert.equal(lost[0].pages, onVictim.reduce((n, r) => n + r.remote_len / 4096, 0));
  assert.equal(lost[0].pageAddrs.length, lost[0].pages);
  // new allocations go to the live server only
  for (let i = 0; i < 4; i++) assert.equal(client.alloc(4096).server, survivor.endpoint);
  assert.equal(client.usage().find((u) => u.server === victim.endpoint)?.alive, false);
});

Deno.test("rmem: an in-process server closing drops its clients' memory with the typed error", async () => {
  const server = RmemServer.start({ poolBytes: 1 << 20 });
  await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 1 << 20 });
  const r = client.alloc(4096);
  await client.write(r, 0, new Uint8Array(4096).fill(3));
  await server.close();
  await assert.rejects(client.read(r), RemoteMemoryLostError);
  assert.equal(client.lostPages()[0]?.pages, 1);
});

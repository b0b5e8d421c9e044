/** The rmem client against real servers: spreading, pipelining, merging, bounds, exhaustion and fragmentation. */
import assert from "node:assert/strict";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import {
  PoolExhaustedError,
  type RemoteRegion,
  RmemClient,
  RmemRemoteError,
  RmemServer,
} from "../../../lib/rmem/mod.ts";

function pattern(seed: number, len = 4096): Uint8Array {
  return new Uint8Array(len).map((_, i) => (seed * 31 + i * 7) & 0xff);
}

Deno.test("rmem client: regions spread over 3 servers, 300 pipelined writes and reads round-trip", async () => {
  await using s1 = RmemServer.start({ poolBytes: 4 << 20 });
  await using s2 = RmemServer.start({ poolBytes: 4 << 20 });
  await using s3 = RmemServer.start({ poolBytes: 4 << 20 });
  await using client = await RmemClient.connect({
    servers: [s1.endpoint, s2.endpoint, s3.endpoint],
    bytesPerServer: 1 << 20,
  });
  const regions = Array.from({ length: 300 }, () => client.alloc(4096));
  assert.deepEqual(client.usage().map((u) => u.regions), [100, 100, 100]);
  const r0 = regions[0];
  assert.equal(typeof r0.remote_addr, "bigint");
  assert.ok(r0.remote_rkey > 0 && r0.remote_len === 4096);
  await Promise.all(regions.map((r, i) => client.write(r, 0, pattern(i))));
  const back = await Promise.all(regions.map((r) => client.read(r)));
  back.forEach((b, i) => assert.deepEqual(b, pattern(i), `region ${i}`));
  // sub-range access
  await client.write(regions[5], 100, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...await client.read(regions[5], 99, 5)], [pattern(5)[99], 1, 2, 3, pattern(5)[103]]);
  assert.equal(s1.stats().bytesWritten + s2.stats().bytesWritten + s3.stats().bytesWritten, 300 * 4096 + 3);
});

Deno.test("rmem client: merging turns adjacent queued requests into fewer wire requests, data intact", async () => {
  await using server = RmemServer.start({ poolBytes: 4 << 20 });
  for (const merge of [false, true]) {
    await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 1 << 20, merge });
    const pages = Array.from({ length: 32 }, () => client.alloc(4096));
    for (let i = 1; i < pages.length; i++) {
      assert.equal(pages[i].remote_addr, pages[i - 1].remote_addr + 4096n, "allocated contiguously");
    }
    const before = client.usage()[0].channel;
    await Promise.all(pages.map((p, i) => client.write(p, 0, pattern(i + 1))));
    const back = await Promise.all(pages.map((p) => client.read(p)));
    back.forEach((b, i) => assert.deepEqual(b, pattern(i + 1)));
    const after = client.usage()[0].channel;
    const wire = after.wireRequests - before.wireRequests;
    const issued = after.requests - before.requests;
    assert.equal(issued, 64);
    if (merge) assert.ok(wire <= 4, `merged 64 requests into ${wire}`);
    else assert.equal(wire, 64);
  }
});

Deno.test("rmem client: bad accesses are InputErrors naming the field; freed regions are refused", async () => {
  await using server = RmemServer.start({ poolBytes: 1 << 20 });
  await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 64 * 1024 });
  const r = client.alloc(100);
  await assert.rejects(client.read(r, 0, 101), (e) => e instanceof InputError && e.field === "len");
  await assert.rejects(client.read(r, -1, 1), (e) => e instanceof InputError && e.field === "offset");
  await assert.rejects(client.write(r, 99, new Uint8Array(2)), (e) => e instanceof InputError && e.field === "len");
  assert.throws(() => client.alloc(0), (e) => e instanceof InputError && e.field === "bytes");
  assert.throws(() => client.alloc(1.5), (e) => e instanceof InputError && e.field === "bytes");
  const forged: RemoteRegion = { ...r, remote_len: 8192 };
  await assert.rejects(client.read(forged), (e) => e instanceof InputError && e.field === "region");
  client.free(r);
  assert.throws(() => client.free(r), (e) => e instanceof InputError && /not yet freed/.test(e.message));
  await assert.rejects(client.read(r), (e) => e instanceof InputError && e.field === "region");
});

Deno.test("rmem client: pool exhaustion and fragmentation give a clear error with what is free", async () => {
  await using server = RmemServer.start({ poolBytes: 64 * 1024 });
  await assert.rejects(
    RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 128 * 1024 }),
    (e) => e instanceof RmemRemoteError && e.statusName === "POOL_EXHAUSTED" && /16 of 16 pages free/.test(e.message),
  );
  await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 16 * 1024 });
  const rs = [client.alloc(4096), client.alloc(4096), client.alloc(4096), client.alloc(4096)];
  assert.throws(() => client.alloc(1), (e) => e instanceof PoolExhaustedError && /0 bytes free/.test(e.message));
  client.free(rs[0]);
  client.free(rs[2]);
  assert.throws(
    () => client.alloc(8192),
    (e) => e instanceof PoolExhaustedError && /8192 bytes free, largest run 4096/.test(e.message),
  );
  client.free(rs[1]);
  const big = client.alloc(12288);
  assert.equal(big.remote_addr, rs[0].remote_addr, "coalesced free run reused");
});

Deno.test("rmem client: connecting to a port nobody listens on names the server", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    RmemClient.connect({ servers: [`127.0.0.1:${port}`], bytesPerServer: 4096 }),
    (e) => e instanceof HyperlabError && e.code === "rmem-connect" && e.message.includes(`127.0.0.1:${port}`),
  );
});

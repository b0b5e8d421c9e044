/** Our NBD server against hand-built frames: negotiation options, error replies, bounds checks, DISC. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { Cmd, NbdErr, NbdServer, Opt, Rep, RmemBlockDevice } from "../../../lib/nbd/mod.ts";
import { IHAVEOPT, NBDMAGIC } from "../../../lib/nbd/protocol.ts";
import { RmemClient, RmemServer } from "../../../lib/rmem/mod.ts";
import { goData, openExport, option, optionReply, request, simpleReply } from "./_nbd_raw.ts";
import { RawConn } from "./_raw.ts";

async function setup() {
  const rs = RmemServer.start({ poolBytes: 8 << 20 });
  const client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 8 << 20 });
  const nbd = NbdServer.start({
    exports: { a: new RmemBlockDevice(client, 1 << 20), b: new RmemBlockDevice(client, 64 << 10) },
  });
  const endpoint = `127.0.0.1:${nbd.port}`;
  return {
    nbd,
    endpoint,
    async [Symbol.asyncDispose]() {
      await nbd.close();
      await client.close();
      await rs.close();
    },
  };
}

Deno.test("nbd negotiation: greeting, LIST, INFO, unknown export, unsupported and malformed options, ABORT", async () => {
  await using s = await setup();
  using c = await RawConn.open(s.endpoint);
  const g = new DataView((await c.recv(18))!.buffer);
  assert.equal(g.getBigUint64(0), NBDMAGIC);
  assert.equal(g.getBigUint64(8), IHAVEOPT);
  assert.equal(g.getUint16(16), 3, "FIXED_NEWSTYLE | NO_ZEROES");
  await c.send(new Uint8Array([0, 0, 0, 3]));

  await c.send(option(Opt.LIST));
  const names: string[] = [];
  while (true) {
    const r = (await optionReply(c))!;
    if (r.type === Rep.ACK) break;
    assert.equal(r.type, Rep.SERVER);
    names.push(new TextDecoder().decode(r.data.subarray(4)));
  }
  assert.deepEqual(names.sort(), ["a", "b"]);

  await c.send(option(Opt.INFO, goData("b", [3])));
  const info = (await optionReply(c))!;
  assert.equal(info.type, Rep.INFO);
  const iv = new DataView(info.data.buffer);
  assert.equal(iv.getUint16(0), 0);
  assert.equal(iv.getBigUint64(2), 65536n);
  const bs = (await optionReply(c))!;
  assert.equal(new DataView(bs.data.buffer).getUint16(0), 3, "block size info when asked");
  assert.equal((await optionReply(c))!.type, Rep.ACK);

  await c.send(option(Opt.GO, goData("nope")));
  const unknown = (await optionReply(c))!;
  assert.equal(unknown.type, Rep.ERR_UNKNOWN);
  assert.match(new TextDecoder().decode(unknown.data), /no export named "nope"/);

  await c.send(option(Opt.GO, new Uint8Array([0, 0, 0, 9, 1])));
  assert.equal((await optionReply(c))!.type, Rep.ERR_INVALID);
  await c.send(option(Opt.LIST, new Uint8Array(3)));
  assert.equal((await optionReply(c))!.type, Rep.ERR_INVALID);
  await c.send(option(Opt.STRUCTURED_REPLY));
  assert.equal((await optionReply(c))!.type, Rep.ERR_UNSUP);
  await c.send(option(4242));
  assert.equal((await optionReply(c))!.type, Rep.ERR_UNSUP);

  await c.send(option(Opt.ABORT));
  assert.equal((await optionReply(c))!.type, Rep.ACK);
  assert.ok(await c.closedByPeer());
});

Deno.test("nbd negotiation: old-style EXPORT_NAME sends size, flags and 124 zeroes without NO_ZEROES", async () => {
  await using s = await setup();
  using c = await RawConn.open(s.endpoint);
  await c.recv(18);
  await c.send(new Uint8Array([0, 0, 0, 1]));
  await c.send(option(Opt.EXPORT_NAME, new TextEncoder().encode("a")));
  const r = (await c.recv(134))!;
  assert.equal(new DataView(r.buffer).getBigUint64(0), 1n << 20n);
  assert.ok(r.subarray(10).every((b) => b === 0));
  await c.send(request(Cmd.DISC, 0n, 0n, 0));
  assert.ok(await c.closedByPeer());

  using bad = await RawConn.open(s.endpoint);
  await bad.recv(18);
  await bad.send(new Uint8Array([0, 0, 0, 1]));
  await bad.send(option(Opt.EXPORT_NAME, new TextEncoder().encode("missing")));
  assert.ok(await bad.closedByPeer(), "EXPORT_NAME of an unknown export can only close");

  using flags = await RawConn.open(s.endpoint);
  await flags.recv(18);
  await flags.send(new Uint8Array([0x80, 0, 0, 1]));
  assert.ok(await flags.closedByPeer(), "unknown client flags close the connection");
});

Deno.test("nbd transmission: bounds checks and unknown commands get error replies, the connection lives on", async () => {
  await using s = await setup();
  using c = await openExport(s.endpoint, "b");
  const size = 65536n;
  const cases: [number, bigint, number, number][] = [
    [Cmd.READ, size - 4096n, 8192, NbdErr.EINVAL],
    [Cmd.READ, 0xffffffffffffff00n, 512, NbdErr.EINVAL],
    [Cmd.READ, 0n, 0, NbdErr.EINVAL],
    [Cmd.TRIM, size, 4096, NbdErr.ENOSPC],
    [Cmd.WRITE_ZEROES, size - 1n, 2, NbdErr.ENOSPC],
    [99, 0n, 0, NbdErr.EINVAL],
  ];
  for (const [i, [type, off, len, err]] of cases.entries()) {
    await c.send(request(type, BigInt(100 + i), off, len));
    const r = (await simpleReply(c))!;
    assert.deepEqual([r.error, r.handle], [err, BigInt(100 + i)], `case ${i}`);
  }
  await c.send(request(Cmd.WRITE, 7n, size - 2n, 4, new Uint8Array(4)));
  assert.equal((await simpleReply(c))!.error, NbdErr.ENOSPC, "write past the end");
  await c.send(request(Cmd.READ, 8n, 0n, 16, undefined, 0x40));
  assert.equal((await simpleReply(c))!.error, NbdErr.EINVAL, "unknown command flag");

  const data = new Uint8Array(5000).map((_, i) => i % 251);
  await c.send(request(Cmd.WRITE, 9n, 3000n, data.length, data, 1));
  assert.deepEqual(await simpleReply(c), { magic: 0x67446698, error: 0, handle: 9n });
  await c.send(request(Cmd.FLUSH, 10n, 0n, 0));
  assert.equal((await simpleReply(c))!.error, 0);
  await c.send(request(Cmd.READ, 11n, 3000n, 5000));
  const r = (await simpleReply(c))!;
  assert.equal(r.error, 0);
  assert.deepEqual(await c.recv(5000), data);
});

Deno.test("nbd transmission: bad request magic and an oversized WRITE close the connection", async () => {
  await using s = await setup();
  {
    using c = await openExport(s.endpoint, "a");
    await c.send(new Uint8Array(28).fill(0x55));
    assert.ok(await c.closedByPeer());
  }
  {
    using c = await openExport(s.endpoint, "a");
    await c.send(request(Cmd.WRITE, 1n, 0n, 64 << 20));
    assert.equal((await simpleReply(c))!.error, NbdErr.EINVAL);
    assert.ok(await c.closedByPeer());
  }
});

Deno.test("nbd options: bad server options and device sizes name the field", async () => {
  await using rs = RmemServer.start({ poolBytes: 1 << 20 });
  await using client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 1 << 20 });
  assert.throws(() => new RmemBlockDevice(client, 1000), (e) => e instanceof InputError && e.field === "size");
  assert.throws(() => NbdServer.start({ exports: {} }), (e) => e instanceof InputError && e.field === "exports");
  assert.throws(
    () => NbdServer.start({ port: 70000, exports: { a: new RmemBlockDevice(client, 4096) } }),
    (e) => e instanceof InputError && e.field === "port",
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => NbdServer.start({ exports: { a: {} as any } }),
    (e) => e instanceof InputError && e.field === "exports.a",
  );
});

Deno.test("nbd transmission: a write when remote memory is exhausted answers ENOSPC; trim makes room", async () => {
  await using rs = RmemServer.start({ poolBytes: 1 << 20 });
  await using client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 8192 });
  await using nbd = NbdServer.start({ exports: { d: new RmemBlockDevice(client, 64 << 10) } });
  using c = await openExport(`127.0.0.1:${nbd.port}`, "d");
  await c.send(request(Cmd.WRITE, 1n, 0n, 8192, new Uint8Array(8192).fill(1)));
  assert.equal((await simpleReply(c))!.error, 0);
  await c.send(request(Cmd.WRITE, 2n, 8192n, 4096, new Uint8Array(4096).fill(2)));
  assert.equal((await simpleReply(c))!.error, NbdErr.ENOSPC);
  await c.send(request(Cmd.TRIM, 3n, 0n, 4096));
  assert.equal((await simpleReply(c))!.error, 0);
  await c.send(request(Cmd.WRITE, 4n, 8192n, 4096, new Uint8Array(4096).fill(2)));
  assert.equal((await simpleReply(c))!.error, 0);
  await c.send(request(Cmd.READ, 5n, 0n, 12288));
  assert.equal((await simpleReply(c))!.error, 0);
  const back = (await c.recv(12288))!;
  assert.ok(back.subarray(0, 4096).every((b) => b === 0), "trimmed block reads as zeros");
  assert.ok(back.subarray(4096, 8192).every((b) => b === 1));
  assert.ok(back.subarray(8192).every((b) => b === 2));
});

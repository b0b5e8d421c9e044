/** The rmem verbs transport: one clear MissingError without RDMA; a real round trip where a device exists. */
import assert from "node:assert/strict";
import { MissingError } from "../../../lib/core/errors.ts";
import { rdmaUnavailable } from "../../../lib/rdma/mod.ts";
import { RmemClient, RmemServer, Status, verbsTransport } from "../../../lib/rmem/mod.ts";
import { decodeReply, encodeQpInfo, encodeRequest, Op, REP_HEADER, REQ_HEADER } from "../../../lib/rmem/wire.ts";
import { skipIf } from "../../_helpers.ts";
import { RawConn } from "./_raw.ts";

const noRdma = rdmaUnavailable();

Deno.test({
  name: "rmem verbs: without RDMA, client and --verbs server fail with one MissingError saying why",
  ignore: skipIf(noRdma === null && "this machine has RDMA; the absent case cannot be shown"),
  async fn() {
    await using server = RmemServer.start({ poolBytes: 1 << 20 });
    await assert.rejects(
      RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 4096 }, verbsTransport),
      (e) => e instanceof MissingError && e.message === `rmem verbs transport: ${noRdma}`,
    );
    assert.throws(
      () => RmemServer.start({ poolBytes: 1 << 20, verbs: true }),
      (e) => e instanceof MissingError && /--verbs: no RDMA/.test(e.message),
    );
  },
});

Deno.test("rmem verbs: a TCP-only server answers VERBS_CONNECT with VERBS_UNAVAILABLE and keeps serving", async () => {
  await using server = RmemServer.start({ poolBytes: 1 << 20 });
  using c = await RawConn.open(server.endpoint);
  const info = encodeQpInfo({ qpn: 0x11, psn: 0x22, lid: 3 });
  const f = new Uint8Array(REQ_HEADER + info.length);
  encodeRequest(f, 0, Op.VERBS_CONNECT, 5, 0, 0n, info.length);
  f.set(info, REQ_HEADER);
  await c.send(f);
  const h = decodeReply((await c.recv(REP_HEADER))!, 0);
  assert.deepEqual([h.status, h.id], [Status.VERBS_UNAVAILABLE, 5]);
  assert.match(new TextDecoder().decode((await c.recv(h.len))!), /TCP only/);
  const hello = new Uint8Array(REQ_HEADER);
  encodeRequest(hello, 0, Op.HELLO, 6, 0, 4096n, 0);
  await c.send(hello);
  assert.equal(decodeReply((await c.recv(REP_HEADER))!, 0).status, Status.OK);
});

Deno.test({
  name: "rmem verbs: write and read back over an RDMA queue pair, server death still fails reads loudly",
  ignore: skipIf(noRdma && `needs an RDMA device: ${noRdma}`),
  async fn() {
    const server = RmemServer.start({ poolBytes: 4 << 20, verbs: true });
    await using client = await RmemClient.connect(
      { servers: [server.endpoint], bytesPerServer: 1 << 20 },
      verbsTransport,
    );
    const rs = Array.from({ length: 64 }, () => client.alloc(4096));
    await Promise.all(rs.map((r, i) => client.write(r, 0, new Uint8Array(4096).fill(i))));
    const back = await Promise.all(rs.map((r) => client.read(r)));
    back.forEach((b, i) => assert.ok(b.every((x) => x === i)));
    await server.close();
    await assert.rejects(client.read(rs[0]));
  },
});

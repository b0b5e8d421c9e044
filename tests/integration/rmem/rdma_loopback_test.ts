/** Two RC queue pairs on one RDMA device connected to each other: SEND/RECV, RDMA WRITE and RDMA READ. */
import assert from "node:assert/strict";
import { openDevice, rdmaUnavailable } from "../../../lib/rdma/mod.ts";
import { skipIf } from "../../_helpers.ts";

Deno.test({
  name: "rdma loopback: INIT→RTR→RTS, send/recv, RDMA write and read between two QPs",
  ignore: skipIf(rdmaUnavailable() && `needs an RDMA device: ${rdmaUnavailable()}`),
  async fn() {
    using dev = openDevice();
    const port = dev.queryPort(1);
    const roce = port.linkLayer === 2;
    const gid = roce ? dev.queryGid(1, 0) : undefined;
    const pd = dev.allocPd();
    const cq = dev.createCq(64);
    const a = pd.registerMemory(new Uint8Array(8192), ["local-write", "remote-read", "remote-write"]);
    const b = pd.registerMemory(new Uint8Array(8192), ["local-write", "remote-read", "remote-write"]);
    const qa = pd.createRcQp(cq, cq);
    const qb = pd.createRcQp(cq, cq);
    for (const [q, peer, psn] of [[qa, qb, 100], [qb, qa, 200]] as const) {
      q.toInit(1);
      q.toRtr({ qpn: peer.qpn, lid: port.lid, psn: psn === 100 ? 200 : 100, gid }, { mtu: 1024 });
      q.toRts(psn);
    }
    b.bytes.fill(0);
    qb.postRecv(1n, b.slice(0, 4096));
    a.bytes.set(new TextEncoder().encode("hello over verbs"));
    qa.postSend(2n, a.slice(0, 16));
    const got = [];
    while (got.length < 2) got.push(...await cq.wait(4, 2000));
    assert.ok(got.every((w) => w.status === 0), JSON.stringify(got));
    assert.equal(new TextDecoder().decode(b.bytes.subarray(0, 16)), "hello over verbs");

    a.bytes.fill(0xab, 0, 4096);
    qa.postRdmaWrite(3n, a.slice(0, 4096), b.addr + 4096n, b.rkey);
    assert.equal((await cq.wait(1, 2000))[0].status, 0);
    assert.ok(b.bytes.subarray(4096).every((x) => x === 0xab));
    qa.postRdmaRead(4n, a.slice(4096, 16), b.addr, b.rkey);
    assert.equal((await cq.wait(1, 2000))[0].status, 0);
    assert.equal(new TextDecoder().decode(a.bytes.subarray(4096, 4112)), "hello over verbs");
  },
});

/** QEMU's own NBD client against our NBD server whose blocks live in rmem: the interop test. */
import assert from "node:assert/strict";
import { NbdServer, RmemBlockDevice } from "../../../lib/nbd/mod.ts";
import { RmemClient, RmemServer, startServerProcess } from "../../../lib/rmem/mod.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { qemuIo, tool } from "./_qemu.ts";

const noQemu = needCommand("qemu-io", "qemu-utils");

Deno.test({
  name: "nbd + qemu-io: pattern written through QEMU's NBD client reads back; flush, trim and bounds",
  ignore: skipIf(noQemu),
  async fn() {
    await using s1 = RmemServer.start({ poolBytes: 32 << 20 });
    await using s2 = RmemServer.start({ poolBytes: 32 << 20 });
    await using client = await RmemClient.connect({ servers: [s1.endpoint, s2.endpoint], bytesPerServer: 16 << 20 });
    const dev = new RmemBlockDevice(client, 8 << 20);
    await using nbd = NbdServer.start({ exports: { disk: dev } });
    const url = nbd.url("disk");

    const info = await tool("qemu-img", "info", "--output=json", url);
    assert.equal(info.code, 0, info.out);
    assert.equal(JSON.parse(info.out)["virtual-size"], 8 << 20);

    const w = await qemuIo(url, "write -P 0xa5 8k 256k", "write -P 0x3c 1000 100", "flush");
    assert.equal(w.code, 0, w.out);
    assert.equal(dev.usage().allocated, 64 + 1, "256 KiB = 64 blocks, plus the block of the unaligned write");
    assert.ok(client.usage().every((u) => u.regions > 20), "blocks spread over both memory servers");

    const r = await qemuIo(
      url,
      "read -P 0xa5 8k 256k",
      "read -P 0x3c 1000 100",
      "read -P 0 0 1000",
      "read -P 0 1100 3k",
    );
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /Pattern verification failed/);
    const wrong = await qemuIo(url, "read -P 0xa6 8k 4k");
    assert.match(wrong.out, /Pattern verification failed/, "the check itself can fail");

    const trim = await qemuIo(url, "discard 8k 128k", "read -P 0 8k 128k", "read -P 0xa5 136k 128k");
    assert.equal(trim.code, 0, trim.out);
    assert.equal(dev.usage().allocated, 32 + 1, "trim freed the remote pages");
    assert.equal(client.usage().reduce((n, u) => n + u.regions, 0), 33);

    const zero = await qemuIo(url, "write -z 136k 8k", "read -P 0 136k 8k");
    assert.equal(zero.code, 0, zero.out);

    const oob = await qemuIo(url, "read 8M 4k", "write -P 1 8188k 8k");
    assert.notEqual(oob.code, 0);
    assert.match(oob.out, /read failed: Input\/output error/);
    assert.match(oob.out, /write failed: Input\/output error/);
    assert.equal(nbd.stats().errors, 0, "QEMU refuses out-of-range requests itself; the raw tests cover ours");
  },
});

Deno.test({
  name: "nbd + qemu-io: reads of blocks on a killed memory server fail with EIO, others still read",
  ignore: skipIf(noQemu),
  async fn() {
    await using victim = await startServerProcess({ pool: "16M" });
    await using survivor = RmemServer.start({ poolBytes: 16 << 20 });
    await using client = await RmemClient.connect({
      servers: [victim.endpoint, survivor.endpoint],
      bytesPerServer: 8 << 20,
    });
    const dev = new RmemBlockDevice(client, 4 << 20);
    await using nbd = NbdServer.start({ exports: { swap: dev } });
    const url = nbd.url("swap");
    assert.equal((await qemuIo(url, "write -P 0x77 0 64k")).code, 0);
    await victim.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (client.usage()[0].alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const lost = dev.lostBlocks();
    assert.equal(lost.length, 8, "every other block of 16 was on the dead server");
    const bad = await qemuIo(url, `read -P 0x77 ${lost[0] * 4096} 4k`);
    assert.match(bad.out, /read failed: Input\/output error/);
    const good = [...Array(16).keys()].find((b) => !lost.includes(b))!;
    const ok = await qemuIo(url, `read -P 0x77 ${good * 4096} 4k`);
    assert.equal(ok.code, 0, ok.out);
    // a full overwrite of a lost block relocates it to the live server
    const fix = await qemuIo(url, `write -P 0x55 ${lost[0] * 4096} 4k`, `read -P 0x55 ${lost[0] * 4096} 4k`);
    assert.equal(fix.code, 0, fix.out);
    assert.equal(dev.lostBlocks().length, 7);
  },
});

/** Write-back of whole-block writes in the rmem block device: early acknowledgement, FUA, its bound, and failures. */
import assert from "node:assert/strict";
import { BlockIoError, NbdErr, RmemBlockDevice } from "../../../lib/nbd/mod.ts";
import { WRITE_BACK_LIMIT } from "../../../lib/nbd/rmem_device.ts";
import { RmemClient, RmemServer } from "../../../lib/rmem/mod.ts";

/** Calls `writeBlock` and says whether it acknowledged before returning; `settled` resolves on done or fail. */
function writeBlock(dev: RmemBlockDevice, block: number, byte: number, fua = false) {
  let acked = false;
  let resolve!: (e: unknown) => void;
  const settled = new Promise<unknown>((r) => resolve = r);
  dev.writeBlock(
    block,
    new Uint8Array(4096).fill(byte),
    () => {
      acked = true;
      resolve(null);
    },
    resolve,
    fua,
  );
  return { early: acked, settled };
}

function readBlock(dev: RmemBlockDevice, block: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => dev.readBlock(block, (v) => resolve(v.slice()), reject));
}

Deno.test("rmem device write-back: acknowledged before the server's ack, read after write sees it, FUA waits, bounded", async () => {
  await using rs = RmemServer.start({ poolBytes: 8 << 20 });
  await using client = await RmemClient.connect({ servers: [rs.endpoint], bytesPerServer: 8 << 20 });
  const dev = new RmemBlockDevice(client, 4 << 20);

  const w = writeBlock(dev, 3, 0xa1);
  assert.equal(w.early, true, "a plain write is acknowledged once queued");
  assert.deepEqual((await readBlock(dev, 3)).slice(0, 4), new Uint8Array(4).fill(0xa1), "ordered after the write");

  const f = writeBlock(dev, 4, 0xb2, true);
  assert.equal(f.early, false, "a FUA write waits for the memory server");
  assert.equal(await f.settled, null);

  // more unacknowledged writes than the bound: the ones past it wait for the server
  const many = Array.from({ length: WRITE_BACK_LIMIT + 8 }, (_, i) => writeBlock(dev, 16 + i, i & 0xff));
  assert.equal(many.filter((x) => x.early).length, WRITE_BACK_LIMIT);
  await Promise.all(many.map((x) => x.settled));
  await dev.flush();
  for (const i of [0, WRITE_BACK_LIMIT - 1, WRITE_BACK_LIMIT + 7]) {
    assert.equal((await readBlock(dev, 16 + i))[4095], i & 0xff, `block ${16 + i}`);
  }
});

Deno.test("rmem device write-back: writes lost with their server fail the next flush (once) and their reads", async () => {
  const rs = RmemServer.start({ poolBytes: 8 << 20 });
  await using survivor = RmemServer.start({ poolBytes: 8 << 20 });
  await using client = await RmemClient.connect({
    servers: [rs.endpoint, survivor.endpoint],
    bytesPerServer: 4 << 20,
  });
  const dev = new RmemBlockDevice(client, 4 << 20);
  // blocks alternate between the servers: 0, 2, 4 on the first, 1, 3, 5 on the survivor
  const writes = [0, 1, 2, 3, 4, 5].map((b) => writeBlock(dev, b, 0x40 + b));
  assert.ok(writes.every((x) => x.early));
  await rs.close(); // the first server goes away before it acknowledged anything
  await Promise.all(writes.map((x) => x.settled));

  const e = await dev.flush().then(() => null, (e) => e);
  assert.ok(e instanceof BlockIoError, `flush must fail, got ${e}`);
  assert.equal(e.errno, NbdErr.EIO);
  assert.match(e.message, /3 acknowledged write\(s\) did not reach remote memory: block 0: /);
  await dev.flush(); // reported once, like fsync

  await assert.rejects(readBlock(dev, 2), (err) => err instanceof BlockIoError && err.errno === NbdErr.EIO);
  assert.equal((await readBlock(dev, 3))[0], 0x43, "blocks on the live server are intact");
  // a full rewrite moves the block to the live server and clears its failure
  const again = writeBlock(dev, 2, 0x99, true);
  assert.equal(await again.settled, null);
  assert.equal((await readBlock(dev, 2))[0], 0x99);
});

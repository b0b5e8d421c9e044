import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { TimeCollector } from "../../../lib/nephele/mod.ts";

/** A guest-like UDP client: sends `text` and resends every `everyMs` until an ack arrives or `tries` run out. */
async function sendUntilAcked(
  sock: Socket,
  port: number,
  text: string,
  tries = 5,
  everyMs = 50,
): Promise<{ acked: boolean; sent: number; ack?: string }> {
  let sent = 0;
  let ack: string | undefined;
  const onMsg = (m: Uint8Array) => ack = new TextDecoder().decode(m);
  sock.on("message", onMsg);
  try {
    while (sent < tries && ack === undefined) {
      sock.send(text, port, "127.0.0.1");
      sent++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return { acked: ack !== undefined, sent, ack };
  } finally {
    sock.off("message", onMsg);
  }
}

function client(): Promise<Socket> {
  const s = createSocket("udp4");
  return new Promise((r) => s.bind(0, "127.0.0.1", () => r(s)));
}

Deno.test("UDP collector on loopback: acks reports with the same bytes, records resends once, ignores junk", async () => {
  await using c = await TimeCollector.start({ hostname: "127.0.0.1", port: 0 });
  const port = c.address.port;
  const guests = await Promise.all([client(), client(), client()]);
  try {
    const r0 = await sendUntilAcked(guests[0], port, "1700000000.000100;parent;0");
    const r1 = await sendUntilAcked(guests[1], port, "1700000000.034000;child;1");
    const r2 = await sendUntilAcked(guests[2], port, "1700000000.035500;child;2");
    for (const r of [r0, r1, r2]) assert.equal(r.acked, true);
    assert.equal(r1.ack, "1700000000.034000;child;1");
    // A guest whose ack was lost resends: acked again, recorded once.
    guests[1].send("1700000000.034000;child;1", port, "127.0.0.1");
    const again = await sendUntilAcked(guests[1], port, "1700000000.034000;child;1");
    assert.equal(again.acked, true);
    const junk = await sendUntilAcked(guests[2], port, "hello", 3, 30);
    assert.equal(junk.acked, false);
    assert.equal(junk.sent, 3);

    const reports = await c.waitForReports(3, 2000);
    assert.deepEqual(reports.map((r) => [r.role, r.index, r.timeUs]), [
      ["parent", 0, 1700000000000100],
      ["child", 1, 1700000000034000],
      ["child", 2, 1700000000035500],
    ]);
    assert.equal(c.reports.length, 3);
    assert.ok(c.duplicates >= 2);
    assert.equal(c.invalid.length, 3);
    assert.equal(c.invalid[0].text, "hello");
    await assert.rejects(c.waitForReports(4, 100), /waiting for 4 reports: timed out after 100 ms\nreceived 3/);
  } finally {
    for (const g of guests) g.close();
  }
});

Deno.test("UDP collector: a taken port is named", async () => {
  await using a = await TimeCollector.start({ hostname: "127.0.0.1", port: 0 });
  await assert.rejects(
    TimeCollector.start({ hostname: "127.0.0.1", port: a.address.port }),
    new RegExp(`UDP time collector cannot listen on 127.0.0.1:${a.address.port}`),
  );
});

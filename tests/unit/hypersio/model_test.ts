import assert from "node:assert/strict";
import { runModel } from "../../../lib/hypersio/model.ts";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { tempDir } from "../../_helpers.ts";
import { writeTrace } from "./_fixtures.ts";

const onePage = (packets: number, level = 1) =>
  Array.from(
    { length: packets * 3 },
    (_, i) => ({ iova: 0x10aa1000, level, nat: i + 1 < packets * 3 ? i + 1 : undefined }),
  );

Deno.test("model: spec exact check — one packet on a cold system: 1952 ns, 31 dropped, 6319 Mb/s", () => {
  using d = tempDir();
  writeTrace(`${d.path}/t.bin`, onePage(1));
  for (const mode of ["event", "tick"] as const) {
    const r = runModel(`${d.path}/t.bin`, {}, { mode });
    assert.deepEqual([r.elapsedNs, r.translations, r.droppedPackets, r.mbps], [1952, 3, 31, 6319], mode);
  }
});

Deno.test("model: spec exact check — 100 packets on one page: 7991 ns, 154373 Mb/s", () => {
  using d = tempDir();
  writeTrace(`${d.path}/t.bin`, onePage(100));
  for (const mode of ["event", "tick"] as const) {
    const r = runModel(`${d.path}/t.bin`, {}, { mode });
    assert.deepEqual([r.elapsedNs, r.translations, r.mbps], [7991, 300, 154373], mode);
    assert.ok(r.utilization > 0.77 && r.utilization < 0.78);
    // Only the first translation misses: the other two of packet 1 hit at fill time (counted at fill: quirk on).
    assert.deepEqual([r.caches.IOTLB.hit, r.caches.IOTLB.miss, r.caches.CC.miss, r.caches.CC.hit], [299, 1, 1, 299]);
    // Flow time: first start 0; the last packet issues at 7930 (= 7991 − 61), CC hit +1, IOTLB hit +2 → 7933.
    assert.deepEqual([r.flows[0].timeNs, r.flows[0].translations, r.flows[0].mbps], [7933, 300, 155502]);
  }
});

Deno.test("model: hand-worked cold packets on a 2 MB page and with the walk-latency quirk off", () => {
  using d = tempDir();
  // lvl 2, cold: CC miss → fills at 1000..1002 → page caches at 1450..1452 (both miss) → page fill at
  // T+50·2−1 = 1549..1551 → IOTLB fill +450 = 1999..2001 → next slot 33·61 = 2013; slots 61..1952 dropped (32).
  writeTrace(`${d.path}/l2.bin`, onePage(1, 2));
  const a = runModel(`${d.path}/l2.bin`);
  assert.deepEqual([a.elapsedNs, a.droppedPackets, a.mbps], [2013, 32, 6128]);
  // lvl 1 with walkLatencyByLevel off: 50·(4−1) = 150 → page fill 1599.. → IOTLB 2049..2051 → slot 34·61 = 2074.
  writeTrace(`${d.path}/l1.bin`, onePage(1, 1));
  const b = runModel(`${d.path}/l1.bin`, {}, { quirks: { walkLatencyByLevel: false } });
  assert.deepEqual([b.elapsedNs, b.droppedPackets, b.mbps], [2074, 33, 5947]);
  assert.equal(b.options.quirks.walkLatencyByLevel, false);
  // 100 Gb/s: slot every 123 ns; 16·123 = 1968 is the first slot after the packet completes at 1951.
  const c = runModel(`${d.path}/l1.bin`, {}, { linkGbps: 100 });
  assert.deepEqual([c.elapsedNs, c.droppedPackets], [1968, 15]);
});

Deno.test("model: bad traces and options get clear errors", () => {
  using d = tempDir();
  Deno.writeFileSync(`${d.path}/empty.bin`, new Uint8Array(0));
  assert.throws(
    () => runModel(`${d.path}/empty.bin`),
    (e: unknown) => e instanceof HyperlabError && /no translations/.test(e.message),
  );
  const short = new Uint8Array(50);
  short[0] = 1; // one valid record, then 2 stray bytes
  Deno.writeFileSync(`${d.path}/short.bin`, short);
  assert.throws(
    () => runModel(`${d.path}/short.bin`),
    (e: unknown) => e instanceof InputError && /48-byte records/.test(e.message),
  );
  const bad = new Uint8Array(48);
  bad[0] = 2;
  Deno.writeFileSync(`${d.path}/type.bin`, bad);
  assert.throws(
    () => runModel(`${d.path}/type.bin`),
    (e: unknown) => e instanceof InputError && /record 0 type/.test(e.message),
  );
  assert.throws(() => runModel(`${d.path}/missing.bin`), InputError);
  writeTrace(`${d.path}/ok.bin`, onePage(1));
  assert.throws(
    () => runModel(`${d.path}/ok.bin`, {}, { tqueue: 0 }),
    (e: unknown) => e instanceof InputError && /tqueue/.test(e.message),
  );
  assert.throws(() => runModel(`${d.path}/ok.bin`, {}, { linkGbps: 20000 }), /linkGbps/);
  assert.throws(
    () => runModel(`${d.path}/ok.bin`, { IOTLB: { size: 64, assoc: 8, groups: 0 } }),
    /IOTLB\.groups.*SIGFPE/,
  );
  assert.throws(
    () => runModel(`${d.path}/ok.bin`, { IOTLB: { size: 64, assoc: 8, groups: 16 } }),
    /at most the number of sets/,
  );
  assert.throws(
    () => runModel(`${d.path}/ok.bin`, { PREFETCH: { size: 0, assoc: 0, groups: 1, histlen: 2 } }),
    /PREFETCH\.assoc/,
  );
  // A 1 GB translation whose 2 MB region is already in L2PAGE: the reference loses it and never drains.
  writeTrace(`${d.path}/gig.bin`, [
    { iova: 0x40000000, level: 3 },
    { iova: 0x40000000, level: 3 },
    { iova: 0x40000000, level: 3 },
    {
      iova: 0x40001000,
      level: 3,
    },
    { iova: 0x40000000, level: 3 },
    { iova: 0x40000000, level: 3 },
  ]);
  assert.throws(
    () => runModel(`${d.path}/gig.bin`, { IOTLB: { size: 0, assoc: 0, groups: 1, histlen: 0 } }),
    /hit in L2PAGE/,
  );
});

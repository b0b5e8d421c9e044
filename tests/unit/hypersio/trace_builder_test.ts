import assert from "node:assert/strict";
import { type BuildOptions, buildTrace } from "../../../lib/hypersio/trace_builder.ts";
import { readCcFile, readIotlbFile, readSlptFile } from "../../../lib/hypersio/trace_format.ts";
import { InputError } from "../../../lib/core/errors.ts";
import { hex, toNumber } from "../../../lib/hypersio/u64.ts";
import { tempDir } from "../../_helpers.ts";
import { line } from "./_fixtures.ts";

const A = 0x10aa1000, B = 0x20bb2000, C = 0x10aa1800, D = 0x30cc3000;

/** Log 0: devices 00:02.0 (SID 0x10, domain 5) and 00:03.0 (SID 0x18, domain 7), a management NIC at 00:1c.0. */
const LOG0 = [
  line.cc(0x10, 5),
  line.cc(0xe0, 9),
  line.walk(5, A, 3, 0xe00000000),
  line.walk(9, A, 3, 0xf00000000),
  line.update(0x10, A, 5),
  "4242@1590000000.000003:vtd_reg_write_addr addr 0x20 value 0x1",
  line.cc(0x18, 7),
  line.update(0x18, B, 7),
  line.hit(0xe0, A, 9),
  line.hit(0x10, C, 5),
  line.hit(0x18, B, 7),
  line.update(0x10, D, 5),
  line.hit(0x10, A, 5),
];
/** Log 1: one tenant device 00:02.0 in domain 5 again (a different tenant: offset 128). */
const LOG1 = [line.cc(0x10, 5), line.update(0x10, B, 5), line.hit(0x10, B, 5), line.hit(0x10, A, 5)];

async function build(dir: string, o: Partial<BuildOptions>, logs = [LOG0, LOG1]) {
  for (const [k, l] of logs.entries()) await Deno.writeTextFile(`${dir}/t_vm_2_${k}.txt`, l.join("\n") + "\n");
  return await buildTrace({ logPrefix: `${dir}/t_vm_2`, tenants: 3, outDir: `${dir}/out`, name: "t", ...o });
}

const rows = (path: string) => [...readIotlbFile(path)].map((r) => [r.did, r.sid, toNumber(r.iova)]);

Deno.test("trace builder: filtering, DID renumbering, SID offset, rr order, nat links, file names", async () => {
  using d = tempDir();
  const r = await build(d.path, { order: "rr", consec: 3 });
  assert.equal(r.tenants, 3);
  assert.match(r.files.iotlb, /t_tnt_3_rr3_iotlb_trace\.bin$/);
  assert.deepEqual(r.logs.map((l) => [l.translations, l.contexts, l.walks, l.tenants]), [[6, 2, 1, 2], [3, 1, 0, 1]]);
  assert.equal(r.logs[0].filtered, 3); // the management NIC's context, walk and hit
  assert.equal(r.logs[0].ignored, 1);
  // Tenants: domain 5 → 0, domain 7 → 1 (log 0), domain 5+128 → 2 (log 1). Per tenant: 0:[A,C,D,A] 1:[B,B] 2:[B,B,A]
  // rr, consec 3: round 1 = 0,0,0 then 1,1 (runs out) then 2,2,2; generation stops after that round.
  assert.deepEqual(rows(r.files.iotlb), [
    [0, 0x10, A],
    [0, 0x10, C],
    [0, 0x10, D],
    [1, 0x18, B],
    [1, 0x18, B],
    [2, 0x90, B],
    [2, 0x90, B],
    [2, 0x90, A],
  ]);
  const nat = [...readIotlbFile(r.files.iotlb)].map((x) => x.nat.hi === 0xffffffff ? -1 : toNumber(x.nat));
  // A and C share a 4K page for tenant 0 → 0 links to 1; tenant 1's B twice; tenant 2's B twice.
  assert.deepEqual(nat, [1, -1, -1, 4, -1, 6, -1, -1]);
  const masks = [...readIotlbFile(r.files.iotlb)].map((x) => hex(x.mask));
  assert.equal(masks[0], "0xfffffffffffff000");
});

Deno.test("trace builder: orig keeps log order, rand follows glibc rand() after srand(1)", async () => {
  using d = tempDir();
  const orig = await build(d.path, { order: "orig" });
  assert.deepEqual(rows(orig.files.iotlb).map((x) => x[0]), [0, 1, 0, 1, 0, 0, 2, 2, 2]);
  const rand = await build(d.path, { order: "rand", consec: 3 });
  // rand() = 1804289383, 846930886, 1681692777, 1714636915, 1957747793 …
  // 3 left: %3=1 → tenant 1 (B,B, runs out → removed); 2 left: %2=0 → tenant 0 ×3; %2=1 → tenant 2 ×3;
  // %2=1 → tenant 2 is empty → removed; 1 left → tenant 0's last record.
  assert.deepEqual(rows(rand.files.iotlb).map((x) => x[0]), [1, 1, 0, 0, 0, 2, 2, 2, 0]);
  assert.match(rand.files.iotlb, /t_tnt_3_rand3_/);
});

Deno.test("trace builder: burst size (consec 6) and a single tenant", async () => {
  using d = tempDir();
  const r = await build(d.path, { order: "rr", consec: 6, tenants: 2 }, [LOG0]);
  assert.equal(r.tenants, 2);
  // tenant 0 has 4 < 6 → runs out in round 1; tenant 1 still gets its turn in that round.
  assert.deepEqual(rows(r.files.iotlb).map((x) => x[0]), [0, 0, 0, 0, 1, 1]);
  const one = await build(d.path, { order: "rr", tenants: 1 }, [LOG0]);
  assert.equal(one.tenants, 1);
  assert.deepEqual(rows(one.files.iotlb).map((x) => x[0]), [0, 0, 0, 0]);
});

Deno.test("trace builder: cc_data and slpt_data records are byte-exact", async () => {
  using d = tempDir();
  const r = await build(d.path, { order: "rr" });
  const cc = [...readCcFile(r.files.cc)];
  assert.deepEqual(
    cc.map((c) => [c.sid, hex(c.hi), hex(c.lo), c.gen]).sort(),
    [
      [0x10, "0x501", "0xe00000001", 0],
      [0x18, "0x701", "0xe00000001", 0],
      [0x90, "0x501", "0xe00000001", 0],
    ].sort(),
  );
  // Three keys below 13 buckets: libstdc++ lists them by bucket (key % 13) in reverse first-insertion order of
  // buckets; 0x10%13=3, 0x18%13=11, 0x90%13=1 → insertion 0x10, 0x18, 0x90 → iteration 0x90, 0x18, 0x10.
  assert.deepEqual(cc.map((c) => c.sid), [0x90, 0x18, 0x10]);
  const bytes = await Deno.readFile(r.files.cc);
  assert.equal(bytes.length, 60);
  assert.deepEqual([...bytes.subarray(40, 60)], [
    0x10,
    0x00, // sid
    0x01,
    0x05,
    0,
    0,
    0,
    0,
    0,
    0, // hi
    0x01,
    0,
    0,
    0,
    0x0e,
    0,
    0,
    0, // lo
    0,
    0, // gen
  ]);
  const slpt = [...readSlptFile(r.files.slpt)];
  assert.equal(slpt.length, 1);
  // level 3: index (iova >> 30) & 511 = 0 → slpte_addr = table base; DID stays the log's original domain (5).
  assert.deepEqual([slpt[0].did, hex(slpt[0].slpteAddr), toNumber(slpt[0].lvl), hex(slpt[0].tableBase)], [
    5,
    "0xe00000000",
    3,
    "0xe00000000",
  ]);
  assert.equal((await Deno.readFile(r.files.slpt)).length, 42);
});

Deno.test("trace builder: sidCollisions=false gives each (log, device) its own SID", async () => {
  using d = tempDir();
  const r = await build(d.path, { order: "orig", sidCollisions: false });
  assert.deepEqual([...new Set(rows(r.files.iotlb).map((x) => x[1]))], [0x10, 0x18, 0x20]);
  assert.deepEqual(r.quirks, { sidCollisions: false });
});

Deno.test("trace builder: bad inputs name the file, line and expectation", async () => {
  using d = tempDir();
  await assert.rejects(
    () => build(d.path, { tenants: 5 }),
    (e: unknown) => e instanceof InputError && /t_vm_2_2\.txt/.test(e.message),
  );
  await assert.rejects(
    () => build(d.path, {}, [[line.cc(0xe0, 9), line.hit(0xe0, A, 9)], LOG1]),
    (e: unknown) => e instanceof InputError && /none found among 2 lines/.test(e.message),
  );
  const bad = [...LOG0];
  bad[4] = "4242@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x1000 slpte nope level 0x1 domain 0x5";
  await assert.rejects(
    () => build(d.path, {}, [bad, LOG1]),
    (e: unknown) => e instanceof InputError && /t_vm_2_0\.txt:5/.test(e.message) && /"slpte"/.test(e.message),
  );
  await assert.rejects(() => build(d.path, { tenants: 0 }), /tenants/);
  await assert.rejects(() => build(d.path, { consec: 0 }), /consec/);
  await assert.rejects(
    () => buildTrace({ logPrefix: `${d.path}/nodevices`, tenants: 1, outDir: d.path, name: "x" }),
    /devicesPerLog/,
  );
});

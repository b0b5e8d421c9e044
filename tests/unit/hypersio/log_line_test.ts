import assert from "node:assert/strict";
import { MalformedLine, parseLogLine } from "../../../lib/hypersio/log_line.ts";
import { hex } from "../../../lib/hypersio/u64.ts";

const SPEC = [
  "4242@1590000000.000001:vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x78 high 0x5101 low 0xe00000001 gen 0 -> gen 1",
  "4242@1590000000.000002:vtd_slpte_fetch SLPTE fetch: high 0x5101 low 0xe00000001 iova 0x10aa1000 level 0x3 addr 0xe00000000 slpte 0xe00001003",
  "4242@1590000000.000005:vtd_iotlb_page_update IOTLB page update sid 0x78 iova 0x10aa1000 slpte 0xe20aa1003 level 0x1 domain 0x51",
  "4242@1590000000.000009:vtd_iotlb_page_hit IOTLB page hit sid 0x78 iova 0x10aa1000 pmask 0xffffffffffe00000 slpte 0xe20a00083 domain 0x51",
];

Deno.test("log line: the spec's four patched-format example lines", () => {
  const cc = parseLogLine(SPEC[0]);
  assert.equal(cc?.kind, "context");
  if (cc?.kind !== "context") return;
  assert.equal(cc.sid, 0x78);
  assert.equal(cc.did, 0x51);
  assert.equal(hex(cc.low), "0xe00000001");
  assert.equal(cc.gen, 0); // the reference keeps the first number after "gen" (the old generation)

  const w = parseLogLine(SPEC[1]);
  assert.equal(w?.kind, "walk");
  if (w?.kind !== "walk") return;
  assert.equal(w.did, 0x51);
  assert.equal(w.level, 3);
  assert.equal(hex(w.addr), "0xe00000000");

  const u = parseLogLine(SPEC[2]);
  assert.equal(u?.kind, "translate");
  if (u?.kind !== "translate") return;
  assert.deepEqual([u.event, u.sid, u.did, u.level, hex(u.iova), hex(u.mask), u.derived], [
    "update",
    0x78,
    0x51,
    1,
    "0x10aa1000",
    "0xfffffffffffff000",
    false,
  ]);

  const h = parseLogLine(SPEC[3]);
  if (h?.kind !== "translate") throw new Error("expected translate");
  assert.deepEqual([h.event, h.level, hex(h.mask), hex(h.slpte)], ["hit", 2, "0xffffffffffe00000", "0xe20a00083"]);
});

Deno.test("log line: stock QEMU 7.2 format derives the level from the PS bit and says so", () => {
  const u = parseLogLine(
    "99@1.000001:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0xfffff000 slpte 0x12345003 domain 0x1",
  );
  if (u?.kind !== "translate") throw new Error("expected translate");
  assert.deepEqual([u.level, u.derived, hex(u.mask)], [1, true, "0xfffffffffffff000"]);
  const h = parseLogLine(
    "99@1.000002:vtd_iotlb_page_hit IOTLB page hit sid 0x10 iova 0x40000000 slpte 0x40000083 domain 0x1",
  );
  if (h?.kind !== "translate") throw new Error("expected translate");
  assert.deepEqual([h.level, h.derived, hex(h.mask)], [2, true, "0xffffffffffe00000"]);
});

Deno.test("log line: unrelated lines are ignored (null)", () => {
  for (
    const l of [
      "",
      "qemu-system-x86_64: warning: something",
      "4242@1.0:vtd_reg_write_addr addr 0x20 value 0x1",
      "4242@1.0:vtd_iotlb_cc_hit IOTLB context hit bus 0x0 devfn 0x10 high 0x101 low 0x1 gen 1",
      "4242@1.0:vtd_iotlb_page_updated something else",
    ]
  ) assert.equal(parseLogLine(l), null, l);
});

Deno.test("log line: malformed event lines are rejected with the reason", () => {
  const cases: [string, RegExp][] = [
    ["1@1.0:vtd_iotlb_page_update IOTLB page update iova 0x1000 slpte 0x3 level 0x1 domain 0x1", /missing field "sid"/],
    ["1@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0xZZ slpte 0x3 level 0x1 domain 0x1", /"iova".*hex/],
    [
      "1@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x1000 slpte 0x3 level 0x0 domain 0x1",
      /level 1\.\.3/,
    ],
    ["1@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10000 iova 0x1000 slpte 0x3 level 0x1 domain 0x1", /16 bits/],
    ["1@1.0:vtd_iotlb_page_hit IOTLB page hit sid 0x10 iova 0x1000 pmask 0xfff0 slpte 0x3 domain 0x1", /page mask/],
    [
      "1@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x1000 slpte 0x3 level 0x1 domain",
      /no value|expected/,
    ],
    ["1@1.0:vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x100 high 0x1 low 0x1 gen 0", /8 bits/],
    ["1@1.0:vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x10 high 0x1 low 0x1 gen x", /"gen"/],
    ["1@1.0:vtd_slpte_fetch SLPTE fetch: high 0x1 low 0x1 iova 0x1 level 0x9 addr 0x1 slpte 0x1", /level 1\.\.5/],
    [
      "1@1.0:vtd_iotlb_page_update IOTLB page update sid 0x10 iova 0x11112222333344445 slpte 0x3 level 0x1 domain 0x1",
      /64 bits/,
    ],
  ];
  for (const [l, re] of cases) {
    assert.throws(() => parseLogLine(l), (e: unknown) => e instanceof MalformedLine && re.test(e.reason), l);
  }
});

import assert from "node:assert/strict";
import { defaultConfig, formatCfgText, parseCfgText, parseRunOptions } from "../../../lib/hypersio/config.ts";
import { InputError } from "../../../lib/core/errors.ts";
import { tenantDeviceArgs, trafficScript } from "../../../lib/hypersio/collect.ts";

Deno.test("config: defaults are the explorer's, and .cfg text round-trips", () => {
  const d = defaultConfig();
  assert.deepEqual(d.IOTLB, { size: 64, assoc: 8, groups: 1, histlen: 2 });
  assert.deepEqual(d.PREFETCH, { size: 0, assoc: 32, groups: 1, histlen: 2 });
  const text = formatCfgText(d);
  assert.match(text, /^CC\nsize:1536\nassoc:1536\ngroups:1\nhistlen:2\n\/\/-{32}\nIOTLB\n/);
  const back = parseCfgText(text);
  assert.deepEqual({ ...back, L1PAGE: undefined }, { ...d, L1PAGE: undefined });
});

Deno.test("config: .cfg missing keys are 0, trailing blank lines and L1PAGE are accepted", () => {
  const c = parseCfgText(
    "CC\nsize:4\nassoc:4\ngroups:1\n//---\nIOTLB\nsize:8\nassoc:2\ngroups:2\n//--\nL2PAGE\ngroups:1\nL3PAGE\ngroups:1\n" +
      "PREFETCH\nassoc:4\nhistlen:1\nL1PAGE\nsize:3\n\n\n",
  );
  assert.deepEqual(c.IOTLB, { size: 8, assoc: 2, groups: 2, histlen: 0 });
  assert.deepEqual(c.L2PAGE, { size: 0, assoc: 0, groups: 1, histlen: 0 });
});

Deno.test("config: inputs that crash or silently truncate the reference are rejected with the line", () => {
  const bad: [string, RegExp][] = [
    ["CC\nsize:4\nassoc:4\ngroups:0\n", /CC\.groups.*SIGFPE/],
    ["CC\nsize:4\nassoc:4\ngroups:1\n\nIOTLB\nsize:8\n", /config\.cfg:5.*blank line/],
    ["CC\nepg:0\n", /config\.cfg:2.*size\|assoc\|groups\|histlen/],
    ["size:4\nCC\n", /config\.cfg:1.*cache name line before/],
    ["TLB\nsize:4\n", /config\.cfg:1.*cache name/],
    ["CC\nsize:-1\n", /config\.cfg:2/],
    [
      "CC\nsize:4\nassoc:4\ngroups:1\nIOTLB\nsize:8\nassoc:8\ngroups:1\nL2PAGE\ngroups:1\nL3PAGE\ngroups:1\n",
      /PREFETCH\.assoc/,
    ],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parseCfgText(text), (e: unknown) => e instanceof InputError && re.test(e.message), text);
  }
});

Deno.test("config: run options validate every field by name", () => {
  assert.equal(parseRunOptions({}).linkGbps, 200);
  assert.throws(() => parseRunOptions({ iotlbRepl: "fifo" }), /iotlbRepl/);
  assert.throws(() => parseRunOptions({ tqueue: 1.5 }), /tqueue/);
  assert.throws(() => parseRunOptions({ quirks: { walkLatencyByLevel: "yes" } }), /quirks\.walkLatencyByLevel/);
});

Deno.test("collect: tenant devices sit at 00:02.0… with DMA through the IOMMU; the script pings each gateway", () => {
  const a = tenantDeviceArgs(2);
  assert.deepEqual(a.filter((x) => x.startsWith("virtio")), [
    "virtio-net-pci,netdev=tenant0,addr=0x2,disable-legacy=on,iommu_platform=on,ats=on",
    "virtio-net-pci,netdev=tenant1,addr=0x3,disable-legacy=on,iommu_platform=on,ats=on",
  ]);
  const s = trafficScript({ tenants: 2, pingsPerTenant: 5, payloadBytes: 100, intervalS: 0.1 });
  assert.match(s, /0000:00:03\.0\/virtio\*\/net/);
  assert.match(s, /ping -q -c 5 -i 0\.1 -s 100 10\.101\.0\.2/);
});

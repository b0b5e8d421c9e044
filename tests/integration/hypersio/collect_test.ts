/**
 * Log collection on stock parts: a real lab guest under QEMU with intel-iommu and two tenant NICs; their DMA
 * translations are traced, built into a trace (stock format: levels derived) and modelled.
 */
import assert from "node:assert/strict";
import { buildTrace, collectIommuLog, readIotlbFile, runModel } from "../../../lib/hypersio/mod.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools } from "../guests/_guest_env.ts";

Deno.test({
  name: "hypersio collect: a QEMU guest's intel-iommu translations become a 2-tenant trace and a model run",
  ignore: skipIf(needGuestTools()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using d = tempDir();
    const c = await collectIommuLog({ tenants: 2, pingsPerTenant: 40, intervalS: 0.01, dir: d.path, name: "t" });
    assert.deepEqual(c.replies.length, 2);
    assert.ok(c.replies.every((n) => n > 0), `echo replies ${c.replies}`);
    assert.ok(c.logLines > 100, `${c.logLines} log lines`);
    const b = await buildTrace({ logPrefix: c.logPrefix, tenants: 2, outDir: d.path, name: "t" });
    assert.equal(b.tenants, 2);
    assert.ok(b.logs[0].filtered > 0, "the SSH NIC at 00:01.0 was filtered out");
    assert.ok(b.logs[0].derivedLevels > 0 && b.missing.length === 2, "stock QEMU's missing fields are reported");
    const sids = new Set([...readIotlbFile(b.files.iotlb)].map((r) => r.sid));
    assert.deepEqual([...sids].sort(), [0x10, 0x18]);
    const m = runModel(b.files.iotlb);
    assert.equal(m.translations, b.translations);
    assert.ok(m.mbps > 0);
  },
});

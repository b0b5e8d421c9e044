/**
 * HyperSIO's guest setup: a guest behind QEMU's emulated intel-iommu (device IOTLB, interrupt remapping) with the
 * IOMMU's translation trace events written to a file, and a clean shutdown.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGuest } from "../../../lib/lab/guests_mod.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools } from "./_guest_env.ts";

Deno.test({
  name: "iommu: the guest runs behind intel-iommu with device IOTLB; vtd translations are traced to a file",
  ignore: skipIf(needGuestTools()),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using tmp = tempDir();
    const traceFile = join(tmp.path, "vtd-trace.log");
    await using g = await startGuest({
      name: "iommu1",
      accel: "tcg",
      iommu: {},
      trace: { events: ["vtd_iotlb_page_*", "vtd_inv_desc*"], file: traceFile },
    });
    const r = await g.exec("ls /sys/class/iommu; grep -c . /proc/interrupts");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^dmar0\n/);
    const shutdown = await g.shutdown();
    assert.deepEqual({ how: shutdown.how, code: shutdown.exit.code }, { how: "guest-poweroff", code: 0 }, g.stderr);
    const trace = await Deno.readTextFile(traceFile);
    assert.match(trace, /^vtd_iotlb_page_(hit|update) /m, "DMA translations of the guest's virtio devices");
    assert.match(trace, /^vtd_inv_desc/m, "the guest driver's invalidation queue");
  },
});

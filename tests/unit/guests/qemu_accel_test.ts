import assert from "node:assert/strict";
import { decideAccel } from "../../../lib/lab/qemu_accel.ts";
import type { Kernel } from "../../../lib/lab/kernel_package.ts";

// Requested accelerators and the HYPERLAB_ACCEL override are decided without probing, so no kernel is needed.
const noKernel = {} as Kernel;

Deno.test("accel: an explicit request is honoured and recorded as requested", async () => {
  assert.deepEqual(await decideAccel("tcg", noKernel), { accel: "tcg", reason: "requested" });
  assert.deepEqual(await decideAccel("kvm", noKernel), { accel: "kvm", reason: "requested" });
});

Deno.test("accel: HYPERLAB_ACCEL overrides the probe for auto", async () => {
  const prev = Deno.env.get("HYPERLAB_ACCEL");
  try {
    Deno.env.set("HYPERLAB_ACCEL", "tcg");
    assert.deepEqual(await decideAccel("auto", noKernel), { accel: "tcg", reason: "HYPERLAB_ACCEL" });
  } finally {
    if (prev === undefined) Deno.env.delete("HYPERLAB_ACCEL");
    else Deno.env.set("HYPERLAB_ACCEL", prev);
  }
});

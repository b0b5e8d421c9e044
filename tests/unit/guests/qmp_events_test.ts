import assert from "node:assert/strict";
import { isDeletionOf } from "../../../lib/lab/qmp_commands.ts";
import type { QmpEvent } from "../../../lib/lab/qmp_types.ts";

const ev = (data: Record<string, unknown>): QmpEvent => ({
  event: "DEVICE_DELETED",
  data,
  timestamp: { seconds: 1, microseconds: 0 },
});

Deno.test("qmp: DEVICE_DELETED matches a device by id, by QOM path, and a vCPU by its APIC child's path", () => {
  assert.ok(isDeletionOf(ev({ device: "dimm1", path: "/machine/peripheral/dimm1" }), "dimm1"));
  assert.ok(isDeletionOf(ev({ path: "/machine/peripheral/cpu1" }), "cpu1"));
  assert.ok(isDeletionOf(ev({ path: "/machine/peripheral/cpu1/lapic" }), "cpu1"));
  assert.ok(!isDeletionOf(ev({ path: "/machine/peripheral/cpu10/lapic" }), "cpu1"));
  assert.ok(!isDeletionOf(ev({ device: "other" }), "cpu1"));
  assert.ok(!isDeletionOf(ev({}), "cpu1"));
});

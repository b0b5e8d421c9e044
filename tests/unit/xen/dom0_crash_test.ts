import assert from "node:assert/strict";
import { dom0DenoCrashed } from "../../../lib/lab/xen_host.ts";

Deno.test("dom0 Deno runs: emulation crashes are retried, a test's own failure is not", () => {
  const crashes = [
    { code: 255, stderr: "" },
    { code: 134, stderr: "" },
    { code: 139, stderr: "Segmentation fault" },
    { code: 1, stderr: "malloc(): unaligned tcache chunk detected" },
    { code: 1, stderr: "free(): double free detected in tcache 2" },
    { code: 1, stderr: "corrupted size vs. prev_size" },
    {
      code: 1,
      stderr:
        "Deno has panicked. This is a bug in Deno.\nFatal error in :0: Check failed: size_in_bytes.value() < kRegularPageSize.",
    },
  ];
  for (const r of crashes) assert.ok(dom0DenoCrashed(r), JSON.stringify(r));
  const results = [
    { code: 0, stderr: "" },
    { code: 1, stderr: "error: AssertionError: 1 !== 0" },
    { code: 255, stderr: "ssh: connect to host 10.0.2.15 port 22: Connection refused" },
    { code: 2, stderr: "usage: _dom0_probe.ts affinity --guest N" },
  ];
  for (const r of results) assert.ok(!dom0DenoCrashed(r), JSON.stringify(r));
});

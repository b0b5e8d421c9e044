import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "../../_cli.ts";
import { needPath, skipIf, tempDir } from "../../_helpers.ts";

interface Probe {
  probe: string;
  result: string;
}

Deno.test({
  name: "quickstart runs the local experiments, prints the summary and records the metrics",
  ignore: skipIf(needPath("/dev/kvm", "KVM")),
  async fn() {
    using dir = tempDir();
    const r = await cli("play", [
      "quickstart",
      "--instances",
      "3",
      "--round-trips",
      "50",
      "--ffi-calls",
      "1000",
      "--json",
      "--results",
      join(dir.path, "r.db"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, "ok");
    const names = out.metrics.map((m: { name: string }) => m.name);
    for (
      const m of [
        "kvm.api_version",
        "kvm.boot_to_report",
        "kvm.clone_to_report",
        "xenstore.reads_per_s",
        "rmem.read_p50",
      ]
    ) {
      assert.ok(names.includes(m), `metric ${m} recorded`);
    }
    const probes = out.result.probes as Probe[];
    assert.match(probes.find((p) => p.probe === "micro-VM boot vs clone")!.result, /clone .* ms \([\d.]+× faster\)/);
    assert.ok(out.facts["local/kvm"].apiVersion === 12);
  },
});

Deno.test("quickstart on a machine without the KVM device reports it absent and still runs the rest", async () => {
  using dir = tempDir();
  const r = await cli("play", [
    "quickstart",
    "--kvm-device",
    "/dev/no-kvm-here",
    "--round-trips",
    "20",
    "--json",
    "--results",
    join(dir.path, "r.db"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const probes = out.result.probes as Probe[];
  assert.match(
    probes.find((p) => p.probe === "KVM")!.result,
    /absent: KVM is not available: \/dev\/no-kvm-here does not exist/,
  );
  assert.ok(!probes.some((p) => p.probe === "micro-VM boot vs clone"));
  assert.match(probes.find((p) => p.probe === "remote memory (TCP)")!.result, /read p50/);
  assert.equal(out.result.kvm, false);
});

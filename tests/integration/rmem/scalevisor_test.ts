/** The Scalevisor skeleton playbook end to end, and the kmeans workload it builds. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import scalevisor from "../../../playbooks/scalevisor/mod.ts";
import { buildKmeans, pointsFor, runKmeans } from "../../../playbooks/scalevisor/kmeans.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

Deno.test({
  name: "kmeans: builds static, same answer for the same input, clear usage errors",
  ignore: skipIf(needCommand("cc", "gcc")),
  async fn() {
    using dir = tempDir();
    const bin = await buildKmeans(dir.path);
    const file = new TextDecoder().decode(
      (await new Deno.Command("file", { args: [bin], stdout: "piped" }).output()).stdout,
    );
    if (file) assert.match(file, /statically linked/);
    const size = { points: pointsFor(1 << 20, 8), dims: 8, k: 8, iterations: 3 };
    const a = await runKmeans(bin, size);
    const b = await runKmeans(bin, size);
    assert.equal(a.points, 32768);
    assert.equal(a.working_set_bytes, 1 << 20);
    assert.equal(a.checksum, b.checksum);
    assert.notEqual((await runKmeans(bin, size, 2)).checksum, a.checksum, "the seed changes the data");
    await assert.rejects(runKmeans(bin, { ...size, points: 4, k: 5 }), /k: expected at most points \(4\), got 5/);
    await assert.rejects(runKmeans(bin, { ...size, dims: 5000 }), /dims: expected an integer between 1 and 4096/);
    assert.throws(() => pointsFor(3, 8), (e) => e instanceof InputError && e.field === "workingSet");
  },
});

Deno.test({
  name:
    "scalevisor playbook: memory servers, NBD disk checked by qemu-io, kmeans baseline; guest sweep reported not run",
  ignore: skipIf(needCommand("qemu-io", "qemu-utils") ?? needCommand("cc", "gcc")),
  async fn() {
    using dir = tempDir();
    const store = ResultsStore.open(`${dir.path}/results.db`);
    try {
      const out = await runPlaybook(scalevisor, { servers: 2, poolPerServer: "64M", disk: "32M", workingSet: "4M" }, {
        store,
      });
      assert.equal(out.status, "ok", String(out.error));
      const r = out.result as {
        disk: string;
        servers: string[];
        baseline: { seconds: number; checksum: string };
        sweep: { status: string }[];
      };
      assert.match(r.disk, /^nbd:\/\/127\.0\.0\.1:\d+\/swap$/);
      assert.equal(r.servers.length, 2);
      assert.ok(r.baseline.seconds > 0 && /^[0-9a-f]{16}$/.test(r.baseline.checksum));
      assert.deepEqual(r.sweep.map((s) => s.status), ["not run", "not run", "not run", "not run"]);
      const bad = await runPlaybook(scalevisor, { servers: 1, poolPerServer: "16M", disk: "64M" }, { store });
      assert.equal(bad.status, "failed");
      assert.ok(bad.error instanceof InputError && bad.error.field === "--disk");
    } finally {
      store.close();
    }
  },
});

/** The kmeans workload the Scalevisor playbook builds (the playbook itself: tests/integration/scalevisor). */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
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

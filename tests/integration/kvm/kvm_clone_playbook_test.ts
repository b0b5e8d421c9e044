import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import kvmClone from "../../../playbooks/nephele/kvm-clone.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { NO_MICROVM } from "./_kvm.ts";

const small = { instances: 3, memory: 8, forkSizes: [4, 8], forkSamples: 1, budget: 48 };

Deno.test(
  { name: "nephele/kvm-clone records metrics and one SVG plot per part", ignore: skipIf(NO_MICROVM) },
  async () => {
    using dir = tempDir();
    const store = ResultsStore.open(`${dir.path}/results.db`);
    try {
      const out = await runPlaybook(kvmClone, small, { store });
      assert.equal(out.status, "ok", String(out.error));
      const names = new Set(store.metrics(out.runId).map((m) => m.name));
      for (const n of ["instantiation.boot", "instantiation.clone", "fork.first", "fork.again", "density.ratio"]) {
        assert.ok(names.has(n), `metric ${n}`);
      }
      assert.equal(store.metrics(out.runId).filter((m) => m.name === "instantiation.clone").length, 3);
      const arts = store.artifacts(out.runId);
      assert.deepEqual(arts.map((a) => a.name).sort(), ["density.svg", "fork-duration.svg", "instantiation.svg"]);
      const svg = new TextDecoder().decode(store.artifactData(arts[0].id));
      assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/);
      const r = out.result as { density: { ratio: number; booted: { instances: number } } };
      assert.ok(r.density.booted.instances >= 1);
      assert.ok(r.density.ratio > 1, "clones are denser than booted instances");
    } finally {
      store.close();
    }
  },
);

Deno.test("nephele/kvm-clone --dry-run plans every part and runs nothing", async () => {
  using dir = tempDir();
  const store = ResultsStore.open(`${dir.path}/results.db`);
  try {
    const out = await runPlaybook(kvmClone, small, { store, dryRun: true });
    assert.equal(out.status, "ok", String(out.error));
    const plan = store.planEntries(out.runId);
    assert.equal(plan.length, 4);
    assert.ok(plan.every((e) => e.kind === "kvm" && e.target === "/dev/kvm"));
    assert.match(plan[1].action, /3× boot an app micro-VM \(8 MiB\)/);
    assert.equal(store.metrics(out.runId).length, 0);
    assert.equal(store.artifacts(out.runId).length, 0);
  } finally {
    store.close();
  }
});

Deno.test("nephele/kvm-clone rejects bad parameters naming the field", async () => {
  using dir = tempDir();
  const store = ResultsStore.open(`${dir.path}/results.db`);
  try {
    await assert.rejects(
      () => runPlaybook(kvmClone, { instances: 0 }, { store }),
      (e) => e instanceof InputError && /instances/.test(e.field),
    );
    await assert.rejects(
      () => runPlaybook(kvmClone, { parts: ["boot"] }, { store }),
      (e) => e instanceof InputError && /parts/.test(e.field),
    );
  } finally {
    store.close();
  }
});

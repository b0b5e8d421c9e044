import assert from "node:assert/strict";
import { z } from "zod";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { startGuests } from "../../../lib/lab/guests_mod.ts";

Deno.test("fleet: N guests named prefix1..N are planned under --dry-run", async () => {
  const pb = definePlaybook({
    name: "test-fleet-dry",
    description: "plans three guests",
    params: z.object({}),
    async run() {
      const f = await startGuests({ count: 3, prefix: "w", guest: { accel: "tcg", memoryMiB: 128 } });
      assert.deepEqual(f.guests.map((g) => g.name), ["w1", "w2", "w3"]);
    },
  });
  using store = ResultsStore.open(":memory:");
  const out = await runPlaybook(pb, {}, { store, dryRun: true });
  assert.equal(out.status, "ok", String(out.error));
  const qemu = store.planEntries(out.runId).filter((p) => p.kind === "qemu");
  assert.deepEqual(qemu.map((p) => p.target).sort(), ["w1", "w2", "w3"]);
  assert.ok(qemu.every((p) => p.action.includes("size=128M")));
});

Deno.test("fleet: bad counts, prefixes and guest options are refused naming the field or the guest", async () => {
  await assert.rejects(startGuests({ count: 0 }), (e: unknown) => e instanceof InputError && e.field === "count");
  await assert.rejects(
    startGuests({ count: 2, prefix: "Bad" }),
    (e: unknown) => e instanceof InputError && e.field === "prefix",
  );
  await assert.rejects(
    startGuests({ count: 1, concurrency: 0 }),
    (e: unknown) => e instanceof InputError && e.field === "concurrency",
  );
  await assert.rejects(startGuests({ count: 2, guest: { cpus: 0 } }), (e: unknown) => {
    assert.ok(e instanceof HyperlabError && e.code === "guest-fleet", String(e));
    assert.match(e.message, /guest guest1 failed to start: .*cpus/);
    assert.ok(e.cause instanceof InputError);
    return true;
  });
});

import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { addJob } from "../../../lib/schedule/add_job.ts";
import { tempDir } from "../../_helpers.ts";
import { openJobs, writePlaybook } from "./_fixtures.ts";

function expectInput(field: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.equal(e.field, field);
    assert.match(e.message, pattern);
    return true;
  };
}

Deno.test("schedule add: validates the job and records its first due time in the zone", async () => {
  using dir = tempDir();
  using s = openJobs(dir.path);
  const pb = writePlaybook(dir.path, "nightly", { required: true });
  const now = Date.parse("2026-03-01T10:00:00Z");
  const job = await addJob(s.jobs, {
    playbook: pb,
    cron: "30 2 * * *",
    tz: "America/New_York",
    params: { need: "x", nodes: ["n2"] },
    nodes: ["n1"],
    retries: 2,
  }, now);
  assert.equal(job.name, "nightly");
  assert.equal(job.tz, "America/New_York");
  assert.deepEqual(job.nodes, ["n1", "n2"], "declared nodes plus the playbook's nodes(params)");
  assert.equal(new Date(job.nextDueAt!).toISOString(), "2026-03-02T07:30:00.000Z");
  const again = await addJob(s.jobs, { playbook: pb, cron: "* * * * *", params: { need: "y" } }, now);
  assert.equal(again.name, "nightly-2", "default names stay unique");
  assert.equal(s.jobs.listJobs().length, 2);
});

Deno.test("schedule add: bad inputs fail with the field and the expectation, and store nothing", async () => {
  using dir = tempDir();
  using s = openJobs(dir.path);
  const pb = writePlaybook(dir.path, "needy", { required: true });
  await assert.rejects(addJob(s.jobs, { playbook: pb, cron: "* * * * *" }), expectInput("need", /expected/));
  await assert.rejects(
    addJob(s.jobs, { playbook: pb, cron: "* * * * *", params: { need: 3 } }),
    expectInput("need", /string/),
  );
  await assert.rejects(
    addJob(s.jobs, { playbook: pb, cron: "99 * * * *", params: { need: "x" } }),
    expectInput("--cron", /cron expression/),
  );
  await assert.rejects(
    addJob(s.jobs, { playbook: "no-such-playbook-xyz", cron: "* * * * *" }),
    expectInput("playbook", /known playbook/),
  );
  const base = { playbook: pb, cron: "* * * * *", params: { need: "x" } };
  await assert.rejects(addJob(s.jobs, { ...base, catchUp: "always" }), expectInput("--catch-up", /skip or once/));
  await assert.rejects(addJob(s.jobs, { ...base, timeoutS: -1 }), expectInput("--timeout", /positive/));
  await assert.rejects(addJob(s.jobs, { ...base, retries: 1.5 }), expectInput("--retries", /whole number/));
  await assert.rejects(addJob(s.jobs, { ...base, tz: "Nowhere/City" }), expectInput("--tz", /IANA/));
  await assert.rejects(addJob(s.jobs, { ...base, nodes: ["bad node"] }), expectInput("--nodes", /node names/));
  await assert.rejects(addJob(s.jobs, { ...base, name: "7" }), expectInput("--name", /letter/));
  await assert.rejects(
    addJob(s.jobs, { ...base, inventory: "/nonexistent/inv.yaml" }),
    expectInput("--inventory", /inventory/),
  );
  assert.equal(s.jobs.listJobs().length, 0);
  await addJob(s.jobs, { ...base, name: "dup" });
  await assert.rejects(addJob(s.jobs, { ...base, name: "dup" }), expectInput("--name", /no current job/));
});

Deno.test("schedule add: an inventory implies the nodes to lock when none are declared", async () => {
  using dir = tempDir();
  using s = openJobs(dir.path);
  const pb = writePlaybook(dir.path, "inv");
  const inv = `${dir.path}/inv.yaml`;
  Deno.writeTextFileSync(inv, "nodes:\n  - { name: alpha, host: 127.0.0.1 }\n  - { name: beta, host: 127.0.0.1 }\n");
  const implied = await addJob(s.jobs, { playbook: pb, cron: "* * * * *", inventory: inv, name: "implied" });
  assert.deepEqual(implied.nodes, ["alpha", "beta"]);
  assert.equal(implied.inventory, inv);
  const declared = await addJob(s.jobs, {
    playbook: pb,
    cron: "* * * * *",
    inventory: inv,
    nodes: ["alpha"],
    name: "d",
  });
  assert.deepEqual(declared.nodes, ["alpha"], "declared nodes win over the whole inventory");
});

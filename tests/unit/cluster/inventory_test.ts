import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { loadInventory, parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { tempDir } from "../../_helpers.ts";

const GOOD = `
defaults: { user: lab, key: keys/id_ed25519, knownHosts: known_hosts }
nodes:
  - { name: n0, host: 10.0.0.10, tags: [gpu] }
  - { name: n1, host: 10.0.0.11, port: 2222, roles: [origin], vars: { numa: 2 } }
  - { name: n2, host: 10.0.0.12, index: 0, jump: n1 }
  - { name: n3, host: 10.0.0.13, jump: { host: bastion, user: jumper }, knownHosts: /guests/n3_known_hosts }
groups:
  compute: [n0, n2]
  everything: [compute, n1, n3]
`;

function expectInput(fn: () => unknown, field: RegExp, msg?: RegExp): InputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.match(e.field, field);
    if (msg) assert.match(e.message, msg);
    return e;
  }
  assert.fail("expected an InputError");
}

Deno.test("inventory: defaults, order (origin first, then index, then file order), paths resolved", () => {
  const inv = parseInventoryYaml(GOOD, "t.yaml", "/base");
  assert.deepEqual(inv.nodes.map((n) => n.name), ["n1", "n2", "n0", "n3"]);
  assert.deepEqual(inv.nodes.map((n) => n.index), [0, 1, 2, 3]);
  assert.equal(inv.origin.name, "n1");
  const n0 = inv.node("n0");
  assert.equal(n0.user, "lab");
  assert.equal(n0.port, 22);
  assert.equal(n0.key, "/base/keys/id_ed25519");
  assert.equal(n0.knownHosts, "/base/known_hosts");
  assert.equal(inv.node("n1").port, 2222);
  assert.deepEqual(inv.node("n1").vars, { numa: 2 });
  assert.deepEqual(inv.node("n2").jump, {
    name: "n1",
    host: "10.0.0.11",
    port: 2222,
    user: "lab",
    key: "/base/keys/id_ed25519",
    jump: undefined,
  });
  assert.equal(inv.node("n3").jump?.user, "jumper");
  assert.equal(inv.node("n3").knownHosts, "/guests/n3_known_hosts");
  assert.deepEqual(inv.groups.everything, ["n1", "n2", "n0", "n3"]);
});

Deno.test("inventory: --limit expressions", () => {
  const inv = parseInventoryYaml(GOOD, "t.yaml", "/base");
  const names = (e: string) => inv.limit(e).nodes.map((n) => n.name);
  assert.deepEqual(names("compute"), ["n2", "n0"]);
  assert.deepEqual(names("n3,n0"), ["n0", "n3"]);
  assert.deepEqual(names("n*,!compute"), ["n1", "n3"]);
  assert.deepEqual(names("everything,&gpu"), ["n0"]);
  assert.deepEqual(names("origin"), ["n1"]);
  assert.deepEqual(names("#1-2"), ["n2", "n0"]);
  assert.deepEqual(names("!n0"), ["n1", "n2", "n3"]);
  expectInput(() => inv.limit("nope"), /--limit/, /nope/);
  expectInput(() => inv.limit("n0,&n1"), /--limit/, /at least one node/);
  expectInput(() => inv.limit("!"), /--limit/);
  expectInput(() => inv.limit("#3-1"), /--limit/);
});

Deno.test("inventory: bad inputs name the node and the field", () => {
  const bad = (nodes: string, extra = "") => () => parseInventoryYaml(`nodes:\n${nodes}\n${extra}`, "bad.yaml");
  expectInput(bad(`  - { name: n0, host: h, port: 70000 }`), /^node "n0" port$/, /bad\.yaml/);
  expectInput(bad(`  - { name: n0, host: h, port: "22" }`), /^node "n0" port$/);
  expectInput(bad(`  - { name: n0 }`), /^node "n0" host$/);
  expectInput(bad(`  - { host: h }`), /^nodes\[0\] name$/);
  expectInput(bad(`  - { name: "bad name", host: h }`), /name/);
  expectInput(bad(`  - { name: n0, host: h, colour: red }`), /^node "n0"/, /colour/);
  expectInput(bad(`  - { name: n0, host: h }\n  - { name: n0, host: h2 }`), /^node "n0" name$/, /no other node/);
  expectInput(bad(`  - { name: n0, host: h, jump: nx }`), /^node "n0" jump$/);
  expectInput(bad(`  - { name: n0, host: h, jump: n1 }\n  - { name: n1, host: h, jump: n0 }`), /jump/, /cycles/);
  expectInput(bad(`  - { name: n0, host: h, index: 1 }\n  - { name: n1, host: h, index: 1 }`), /^node "n1" index$/);
  expectInput(bad(`  - { name: a, host: h, roles: [origin] }\n  - { name: b, host: h, roles: [origin] }`), /roles/);
  expectInput(
    bad(`  - { name: n0, host: h, ipmi: { host: b, user: u, password: hunter22 } }`),
    /^node "n0" ipmi\.password$/,
  );
  expectInput(
    bad(`  - { name: n0, host: h, ipmi: { host: b, user: u, password: { env: A, file: f } } }`),
    /^node "n0" ipmi\.password$/,
    /exactly one/,
  );
  expectInput(
    bad(`  - { name: n0, host: h, ipmi: { host: b, user: u, password: { env: HL_SURELY_UNSET_VAR } } }`),
    /^node "n0" ipmi\.password\.env$/,
    /HL_SURELY_UNSET_VAR/,
  );
  expectInput(bad(`  - { name: n0, host: h }`, "groups: { g: [zz] }"), /^groups\.g$/);
  expectInput(() => parseInventoryYaml("nodes: []", "e.yaml"), /^nodes$/);
  expectInput(() => parseInventoryYaml("nodes: [ {", "e.yaml"), /file/, /YAML/);
});

Deno.test("inventory: loadInventory reads YAML and TS files, rejects unknown specs", async () => {
  using dir = tempDir();
  const y = join(dir.path, "inv.yaml");
  writeFileSync(y, GOOD);
  const inv = await loadInventory(y, "compute");
  assert.deepEqual(inv.nodes.map((n) => n.name), ["n2", "n0"]);
  assert.equal(inv.node("n0").key, join(dir.path, "keys/id_ed25519"));
  const t = join(dir.path, "inv.ts");
  writeFileSync(t, `export default { nodes: [{ name: "a", host: "127.0.0.1", user: "u" }] };`);
  assert.equal((await loadInventory(t)).origin.name, "a");
  await assert.rejects(() => loadInventory(join(dir.path, "missing.yaml")), InputError);
  writeFileSync(join(dir.path, "x.txt"), "");
  await assert.rejects(() => loadInventory(join(dir.path, "x.txt")), /--inventory/);
});

Deno.test("inventory: IPMI passwords never reach logs or the run record", async () => {
  using dir = tempDir();
  const pwFile = join(dir.path, "bmc.pw");
  writeFileSync(pwFile, "file-secret-XYZ\n");
  Deno.env.set("HL_TEST_BMC_PW", "env-secret-ABC");
  try {
    const inv = parseInventoryYaml(
      `nodes:
  - { name: n0, host: h0, user: u, ipmi: { host: b0, user: admin, password: { env: HL_TEST_BMC_PW } } }
  - { name: n1, host: h1, user: u, ipmi: { host: b1, user: admin, password: { file: bmc.pw } } }`,
      "s.yaml",
      dir.path,
    );
    assert.equal(inv.ipmiPassword("n0"), "env-secret-ABC");
    assert.equal(inv.ipmiPassword("n1"), "file-secret-XYZ");
    const json = JSON.stringify(inv);
    assert.ok(!json.includes("env-secret-ABC") && !json.includes("file-secret-XYZ"));
    assert.match(json, /env:HL_TEST_BMC_PW/);

    using store = ResultsStore.open(":memory:");
    const pb = definePlaybook({
      name: "leak-test",
      description: "tries to leak secrets",
      params: z.object({}),
      run(ctx) {
        ctx.log.info(`bmc password of n0 is ${inv.ipmiPassword("n0")}`, "n0");
        ctx.facts("n1", { pw: inv.ipmiPassword("n1") });
        throw new Error(`failed with ${inv.ipmiPassword("n1")}`);
      },
    });
    const out = await runPlaybook(pb, {}, { store, inventory: inv.toRecord(), secrets: inv.secrets() });
    assert.equal(out.status, "failed");
    const dump = JSON.stringify([store.getRun(out.runId), store.logs(out.runId), store.facts(out.runId)]);
    assert.ok(!dump.includes("env-secret-ABC"), "env secret leaked");
    assert.ok(!dump.includes("file-secret-XYZ"), "file secret leaked");
    assert.match(dump, /bmc password of n0 is \*\*\*/);

    // A playbook that loads the inventory itself (no `secrets` option): the passwords are masked all the same.
    const pb2 = definePlaybook({
      name: "leak-test-2",
      description: "loads the inventory inside the run",
      params: z.object({}),
      async run(ctx) {
        const inv2 = await loadInventory(join(dir.path, "s.yaml"));
        ctx.log.info(`pw ${inv2.ipmiPassword("n0")} / ${inv2.ipmiPassword("n1")}`);
      },
    });
    writeFileSync(
      join(dir.path, "s.yaml"),
      `nodes:
  - { name: n0, host: h0, user: u, ipmi: { host: b0, user: admin, password: { env: HL_TEST_BMC_PW } } }
  - { name: n1, host: h1, user: u, ipmi: { host: b1, user: admin, password: { file: bmc.pw } } }`,
    );
    const out2 = await runPlaybook(pb2, {}, { store });
    assert.equal(out2.status, "ok", String(out2.error));
    const logs2 = JSON.stringify(store.logs(out2.runId));
    assert.ok(!logs2.includes("env-secret-ABC") && !logs2.includes("file-secret-XYZ"), logs2);
    assert.match(logs2, /pw \*\*\* \/ \*\*\*/);
  } finally {
    Deno.env.delete("HL_TEST_BMC_PW");
  }
});

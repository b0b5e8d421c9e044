import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { labDown, labStatus, labUp, requireRoot } from "../../../lib/lab/lab_nodes.ts";
import { connectCluster } from "../../../lib/remote/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { labSkipReason } from "./_lab.ts";

Deno.test("lab: clear error when not root; bad --nodes", async () => {
  assert.throws(() => requireRoot(1000), (e: unknown) => e instanceof HyperlabError && /needs root/.test(e.message));
  await assert.rejects(
    () => labUp(0, { dir: "/nonexistent" }),
    (e: unknown) => e instanceof InputError && e.field === "--nodes",
  );
  await assert.rejects(
    () => labUp(2, { prefix: "Bad-Prefix" }),
    (e: unknown) => e instanceof InputError && e.field === "prefix",
  );
});

async function labCli(...args: string[]): Promise<{ code: number; out: string }> {
  const main = new URL("../../../lib/lab/lab_main.ts", import.meta.url).pathname;
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr) };
}

Deno.test("lab CLI: bad flags and values are named; status without a lab says so", async () => {
  const bad = await labCli("up", "--nodez", "3");
  assert.equal(bad.code, 1);
  assert.match(bad.out, /flags: expected up --nodes N/);
  const nodes = await labCli("up", "--nodes", "many");
  assert.match(nodes.out, /--nodes: expected a whole number \(got "many"\)/);
  const cmd = await labCli("frobnicate");
  assert.match(cmd.out, /command: expected up, down or status/);
  const st = await labCli("status", "--dir", "/nonexistent/hyperlab-lab", "--prefix", "hlnone");
  assert.equal(st.code, 1);
  assert.match(st.out, /no lab/);
});

function sshdPids(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => readFileSync(join(dir, `n${i}`, "sshd.pid"), "utf8").trim());
}

Deno.test({
  name: "lab: up is idempotent, resizes, status reports, down removes everything (twice is fine)",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-hll-" });
    const opts = { dir, prefix: "hll", subnet: 205 };
    try {
      const a = await labUp(3, opts);
      assert.deepEqual(a.nodes.map((n) => n.ip), ["10.213.205.10", "10.213.205.11", "10.213.205.12"]);
      const pids = sshdPids(dir, 3);
      const b = await labUp(3, opts);
      assert.deepEqual(b.nodes, a.nodes);
      assert.deepEqual(sshdPids(dir, 3), pids, "second up keeps the running sshds");
      const inv = await loadInventory(b.inventory);
      assert.deepEqual(inv.nodes.map((n) => n.name), ["n0", "n1", "n2"]);
      using c = connectCluster(inv);
      assert.deepEqual((await c.run(["true"], { stream: false })).ok, ["n0", "n1", "n2"]);
      c.close();

      const other = { dir: `${dir}-other`, prefix: "hlo", subnet: 205 };
      await assert.rejects(
        () => labUp(1, other),
        (e: unknown) => e instanceof InputError && e.field === "subnet" && /hllbr0/.test(e.message),
      );
      assert.ok(!(await new Deno.Command("ip", { args: ["link", "show", "hlobr0"], stderr: "null" }).output()).success);
      await labDown(other);

      await labUp(2, opts);
      const st = await labStatus(opts);
      assert.deepEqual(st.nodes.map((n) => [n.name, n.namespace && n.sshd && n.port]), [["n0", true], ["n1", true]]);
      const ns = new TextDecoder().decode((await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout);
      assert.ok(!ns.includes("hll-n2"), "shrinking removed n2's namespace");

      const down = await labDown(opts);
      assert.deepEqual(down.removed, ["hll-n0", "hll-n1"]);
      assert.ok(!existsSync(dir));
      const links = new TextDecoder().decode((await new Deno.Command("ip", { args: ["-br", "link"] }).output()).stdout);
      assert.ok(!/hll/.test(links), `links left: ${links}`);
      assert.deepEqual((await labDown(opts)).removed, []);
      assert.deepEqual((await labStatus(opts)).nodes, []);
    } finally {
      await labDown(opts);
    }
  },
});

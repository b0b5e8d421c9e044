/**
 * A real 2-node boot here: one QEMU guest per lab node (network namespaces with real sshd), coordinated start,
 * SSH into every guest, per-vCPU verification from each node's QEMU CPU time; and a node that cannot boot is
 * named while the other guest is stopped.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import YAML from "yaml";
import { cli } from "../../_cli.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { labSkipReason, processesMatching, withLab } from "../cluster/_lab.ts";

Deno.test({
  name: "fragvisor/lab-boot: one real guest per lab node to SSH-ready, verified; a failing node is named",
  ignore: skipIf(labSkipReason() ?? needCommand("qemu-system-x86_64", "qemu-system-x86")),
  async fn(t) {
    await withLab("fvb", 232, 2, async (lab) => {
      await t.step("2 nodes, 2 vCPUs each: booted, SSH, load lands on the guest's node", async () => {
        const r = await cli("play", [
          "fragvisor/lab-boot",
          ...["--inventory", lab.inventory, "--vcpus", "2", "--loop-seconds", "1"],
          ...["--results", join(lab.dir, "r.db"), "--json"],
        ]);
        assert.equal(r.code, 0, r.stderr.slice(-3000));
        const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!).result;
        assert.deepEqual(Object.keys(res.bootMs).sort(), lab.nodes.map((n) => n.name).sort());
        assert.ok(res.totalMs >= Math.max(...Object.values(res.bootMs) as number[]));
        for (const n of lab.nodes) assert.match(res.unames[n.name], /^\S+ \/ 2$/);
        assert.equal(res.verify.length, 4);
        for (const v of res.verify) assert.equal(v.busiest, v.node, JSON.stringify(v));
        assert.deepEqual(processesMatching("hyperlab-fv-"), [], "guests stopped at the end");
      });

      await t.step(
        "a node that cannot boot (its boot budget is too small) is named; the other guest is stopped",
        async () => {
          const inv = YAML.parse(Deno.readTextFileSync(lab.inventory));
          inv.defaults.key = join(lab.dir, inv.defaults.key);
          inv.defaults.knownHosts = join(lab.dir, inv.defaults.knownHosts);
          inv.nodes[1].vars = { ...inv.nodes[1].vars, bootTimeoutMs: 1000 };
          const path = join(lab.dir, "one-bad.yaml");
          Deno.writeTextFileSync(path, YAML.stringify(inv));
          const r = await cli("play", [
            "fragvisor/lab-boot",
            ...["--inventory", path, "--verify=false"],
            ...["--results", join(lab.dir, "r.db")],
          ]);
          assert.notEqual(r.code, 0);
          const [a, b] = lab.nodes.map((n) => n.name);
          assert.match(r.stderr, new RegExp(`guests failed to boot on ${b}; the guests on ${a} were stopped`));
          assert.deepEqual(processesMatching("hyperlab-fv-"), [], "no guest left running");
        },
      );
    });
  },
});

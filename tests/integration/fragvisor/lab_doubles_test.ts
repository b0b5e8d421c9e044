/**
 * The FragVisor playbook end to end on a private 3-node lab (network namespaces with real sshd): real SSH, node
 * order, waits, timeouts and console keepalive, with the named test doubles of tests/fixtures/doubles/fragvisor
 * standing in for Popcorn's msg_rdma.ko (over real TCP), dmesg and lkvm. Scenarios: a clean boot, a node whose IP
 * is not in config.h, a peer that never joins, and a console that stalls without keepalive newlines.
 */
import assert from "node:assert/strict";
import { chmodSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { INSMOD_LOG } from "../../../lib/fragvisor/mod.ts";
import { join } from "node:path";
import YAML from "yaml";
import type { LabState } from "../../../lib/lab/lab_nodes.ts";
import { cli, ROOT } from "../../_cli.ts";
import { needCommand, skipIf } from "../../_helpers.ts";
import { labSkipReason, processesMatching, withLab } from "../cluster/_lab.ts";
import { BmcSimulator } from "../../../lib/ipmi/mod.ts";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import { connectCluster } from "../../../lib/remote/mod.ts";

const DOUBLES = join(ROOT, "tests/fixtures/doubles/fragvisor");
const BMC_PASSWORD = "fv-Bmc-4411";
const IP_CMD = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}) ?? "ip";

/** One test's workspace: doubles with their env, one kernel tree per node, ramdisk, bzImage, inventory. */
function workspace(
  lab: LabState,
  name: string,
  env: Record<string, string>,
  msgIp: Record<number, string> = {},
  extra: (i: number) => Record<string, unknown> = () => ({}),
) {
  const dir = join(lab.dir, `fv-${name}`);
  const bin = join(dir, "bin");
  cpSync(join(DOUBLES, "bin"), bin, { recursive: true });
  // One state directory for the whole lab, like one kernel per node: a later load's rmmod unloads the earlier
  // module, and earlier kernel-log lines stay (the playbook must ignore them).
  const state = join(lab.dir, "fv-state");
  mkdirSync(state, { recursive: true });
  writeFileSync(
    join(bin, "doubles.env"),
    Object.entries({ STATE: state, IP_CMD, CONNECT_TIMEOUT: "3", ACCEPT_TIMEOUT: "6", NEVER_JOIN: "", ...env })
      .map(([k, v]) => `${k}="${v}"\n`).join(""),
  );
  const trees = lab.nodes.map((n) => {
    const t = join(dir, "trees", n.name);
    cpSync(join(DOUBLES, "tree"), t, { recursive: true });
    return t;
  });
  mkdirSync(join(trees[0], "arch/x86/boot"), { recursive: true });
  writeFileSync(join(trees[0], "arch/x86/boot/bzImage"), "not a kernel (test double)\n");
  writeFileSync(join(dir, "ramdisk.gz"), "not a ramdisk (test double)\n");
  mkdirSync(join(dir, "lkvm-state"));
  writeFileSync(join(dir, "lkvm-state", "stale.sock"), "");
  const inv = {
    defaults: { user: lab.user, key: lab.key, knownHosts: lab.knownHosts },
    nodes: lab.nodes.map((n, i) => ({
      name: n.name,
      host: n.ip,
      vars: { kernelTree: trees[i], ...(msgIp[i] ? { msgIp: msgIp[i] } : {}) },
      ...extra(i),
    })),
  };
  writeFileSync(join(dir, "inventory.yaml"), YAML.stringify(inv));
  // The lab account runs the doubles and writes their state.
  for (const p of [dir, bin, state, join(dir, "trees"), ...trees, ...trees.map((t) => join(t, "msg_layer"))]) {
    chmodSync(p, 0o777);
  }
  chmodSync(join(dir, "lkvm-state"), 0o777);
  const flags = [
    ...["--inventory", join(dir, "inventory.yaml"), "--path-prefix", bin, "--sudo=false"],
    ...["--lkvm", join(bin, "lkvm"), "--ramdisk", join(dir, "ramdisk.gz"), "--lkvm-state-dir", join(dir, "lkvm-state")],
    ...["--wait-bridge=false", "--results", join(dir, "results.db"), "--json"],
  ];
  return { dir, state, trees, flags };
}

function errTail(r: { stderr: string }): string {
  return r.stderr.split("\n").filter((l) => !/^\d\d:\d\d:\d\d\.\d+ {3}/.test(l)).slice(-25).join("\n");
}

function lastJson(stdout: string) {
  const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
  return line ? JSON.parse(line) : undefined;
}

Deno.test({
  name: "fragvisor on 3 lab nodes with test doubles: boot, missing IP, peer never joins, stalled console, IPMI restart",
  ignore: skipIf(
    labSkipReason() ?? (IP_CMD === "ip" ? "iproute2 ip not found" : null) ?? needCommand("ipmi_sim", "openipmi") ??
      needCommand("ipmitool"),
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    try {
      await runScenarios(t);
    } finally {
      // The nodes share this machine's /tmp: the background insmod's log (see INSMOD_LOG) lands here.
      rmSync(INSMOD_LOG, { force: true });
    }
  },
});

async function runScenarios(t: Deno.TestContext): Promise<void> {
  await withLab("fvl", 231, 3, async (lab) => {
    await t.step("clean boot: messaging layer in node order, lkvm with keepalive reaches ALL DONE", async () => {
      const w = workspace(lab, "ok", {});
      const r = await cli("play", ["fragvisor", ...w.flags, "--vcpus", "2,1,1", "--console-keepalive-ms", "200"]);
      assert.equal(r.code, 0, r.stderr.slice(-3000));
      const j = lastJson(r.stdout);
      assert.equal(j.status, "ok");
      const res = j.result;
      assert.deepEqual(res.nodes, lab.nodes.map((n) => n.name));
      assert.deepEqual(res.ips, lab.nodes.map((n) => n.ip));
      assert.deepEqual(res.join.map((x: { ready: boolean }) => x.ready), [true, true, true]);
      assert.ok(res.console.lkvmInitMs >= 0 && res.console.allDone && res.console.initstrap);
      assert.ok(res.console.keepalives >= 5, "the console needed keepalive newlines");
      // Node order: each node's kmsg shows joined lines of every peer, and the stale socket is gone.
      for (const n of lab.nodes) {
        const k = Deno.readTextFileSync(join(w.state, n.ip, "kmsg"));
        assert.match(k, /popcorn: Ready on InfiniBand RDMA/);
        assert.equal(k.match(/joined, x86_64/g)?.length, 2, k);
      }
      assert.deepEqual([...Deno.readDirSync(join(w.dir, "lkvm-state"))], []);
      assert.deepEqual(processesMatching(join(w.dir, "bin/lkvm")), [], "lkvm stopped at the end of the run");
      const cfg = Deno.readTextFileSync(join(w.trees[2], "msg_layer/config.h"));
      assert.match(cfg, new RegExp(lab.nodes.map((n) => `"${n.ip}"`).join(", ")));
      const steps = j.steps.map((s: { name: string }) => s.name);
      assert.ok(steps.includes("messaging layer: load in node order"));
      assert.ok(steps.includes("launch: Initstrap done and ALL DONE"));
    });

    await t.step("a node whose IP is not in config.h fails fast, named", async () => {
      const w = workspace(lab, "noip", {}, { 2: "10.213.231.99" });
      const r = await cli("play", ["fragvisor", ...w.flags, "--phases", "msg-layer", "--join-timeout-ms", "20000"]);
      assert.notEqual(r.code, 0);
      const n2 = lab.nodes[2].name;
      assert.match(
        r.stderr,
        new RegExp(`messaging layer: ${n2} not in msg_layer/config.h \\(popcorn: My IP is not listed`),
        errTail(r),
      );
      assert.match(r.stderr, new RegExp(`${n2} \\(nid 2\\): not ready; .*its IP is not listed`), errTail(r));
    });

    await t.step("a peer that never joins: the timeout names the waiting nodes and the missing peer", async () => {
      const w = workspace(lab, "nojoin", { NEVER_JOIN: lab.nodes[1].ip, ACCEPT_TIMEOUT: "30" });
      const r = await cli("play", ["fragvisor", ...w.flags, "--phases", "msg-layer", "--join-timeout-ms", "5000"]);
      assert.notEqual(r.code, 0);
      const [a, b, c] = lab.nodes.map((n) => n.name);
      assert.match(
        r.stderr,
        /messaging layer: waiting for .* to be ready with 2 peers joined: timed out after 5000 ms/,
        errTail(r),
      );
      assert.match(r.stderr, new RegExp(`${a} \\(nid 0\\): not ready; peers not joined: ${b}`), errTail(r));
      assert.match(r.stderr, new RegExp(`${b} \\(nid 1\\): not ready; peers not joined: ${a}, ${c}`), errTail(r));
      assert.match(
        r.stderr,
        new RegExp(
          `${c} \\(nid 2\\): not ready; peers not joined: ${b}; Unable to connect, ${lab.nodes[1].ip} - -110`,
        ),
        errTail(r),
      );
    });

    await t.step("a console that stalls: without keepalive newlines Initstrap never comes", async () => {
      const w = workspace(lab, "stall", {});
      const r = await cli("play", [
        "fragvisor",
        ...w.flags,
        ...["--console-keepalive-ms", "0", "--boot-timeout-ms", "3000", "--join-timeout-ms", "20000"],
      ]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /lkvm console on .*: waiting for initstrap, allDone: timed out after 3000 ms/,
        errTail(r),
      );
      assert.match(
        r.stderr,
        /\(0 keepalive newlines sent\); last lines:\n[\s\S]*lkvm init \[time\] = \d+ ms/,
        errTail(r),
      );
      assert.deepEqual(processesMatching(join(w.dir, "bin/lkvm")), [], "the stalled lkvm was killed");
    });

    await t.step("lkvm that exits at once (guest kernel missing) is reported with its console", async () => {
      const w = workspace(lab, "nokernel", {});
      Deno.removeSync(join(w.trees[0], "arch/x86/boot/bzImage"));
      const r = await cli("play", ["fragvisor", ...w.flags, "--phases", "launch", "--boot-timeout-ms", "20000"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /lkvm on \S+ exited \(code 1\) before lkvmInit/, errTail(r));
      assert.match(r.stderr, /Fatal: -k \S+bzImage: no such file/, errTail(r));
    });

    await t.step(
      "restart: IPMI power cycle of every host (ipmi_sim BMCs), SSH back, messaging layer reloaded",
      async () => {
        const sims: BmcSimulator[] = [];
        try {
          for (const n of lab.nodes) {
            const d = join(lab.dir, `bmc-${n.name}`);
            mkdirSync(d);
            sims.push(await BmcSimulator.start(d, `bmc-${n.name}`, BMC_PASSWORD));
          }
          const w = workspace(lab, "restart", {}, {}, (i) => ({
            ipmi: { host: "127.0.0.1", port: sims[i].bmc.port, user: "admin", password: { env: "FV_TEST_BMC_PW" } },
          }));
          Deno.env.set("FV_TEST_BMC_PW", BMC_PASSWORD);
          const inv = await loadInventory(join(w.dir, "inventory.yaml"));
          using cluster = connectCluster(inv);
          for (const n of cluster.nodes) await n.power.on();
          const r = await cli("play", [
            "fragvisor",
            ...w.flags,
            ...["--phases", "restart", "--restart-check", "ssh", "--reboot-timeout-ms", "20000"],
          ], { FV_TEST_BMC_PW: BMC_PASSWORD });
          assert.equal(r.code, 0, errTail(r));
          const j = lastJson(r.stdout);
          assert.deepEqual(j.result.phases, ["restart", "msg-layer"]);
          assert.deepEqual(sims.map((x) => x.boots()), [2, 2, 2], "every BMC power-cycled its machine once");
          assert.deepEqual(j.result.join.map((x: { ready: boolean }) => x.ready), [true, true, true]);
          assert.ok(!r.stdout.includes(BMC_PASSWORD) && !r.stderr.includes(BMC_PASSWORD), "BMC password not shown");
        } finally {
          Deno.env.delete("FV_TEST_BMC_PW");
          for (const x of sims) await x[Symbol.asyncDispose]();
        }
      },
    );
  });
}

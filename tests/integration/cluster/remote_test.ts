import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { CancelledError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { loadInventory, parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import {
  CommandError,
  connectCluster,
  FanoutError,
  RemoteError,
  RemoteTimeoutError,
  waitFor,
} from "../../../lib/remote/mod.ts";
import { killSshd, startSshd } from "../../../lib/lab/lab_nodes.ts";
import { skipIf } from "../../_helpers.ts";
import { labSkipReason, processesMatching, withLab } from "./_lab.ts";

const SANITIZE = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "remote: commands, fan-out, quoting, kills, transfer, jump hosts, host keys on a 3-node lab",
  ignore: skipIf(labSkipReason()),
  ...SANITIZE,
  async fn(t) {
    await withLab("hlr", 201, 3, async (lab) => {
      const inv = await loadInventory(lab.inventory);
      using cluster = connectCluster(inv);
      const [n0, n1, n2] = cluster.nodes;

      await t.step("run: exit code, stdout, stderr, duration, env, cwd, stdin", async () => {
        const r = await n0.run({ cmd: 'echo "$HL_A in $(pwd)"; cat; echo oops >&2' }, {
          env: { HL_A: "x y" },
          cwd: "/tmp",
          stdin: "from stdin\n",
          stream: false,
        });
        assert.equal(r.exitCode, 0);
        assert.equal(r.stdout, "x y in /tmp\nfrom stdin\n");
        assert.equal(r.stderr, "oops\n");
        assert.ok(r.durationMs > 0 && r.durationMs < 5000);
        const who = await n1.run(["id", "-un"], { stream: false });
        assert.equal(who.stdout.trim(), lab.user);
      });

      await t.step("20 concurrent commands on one node (sshd allows 10 sessions per connection)", async () => {
        const rs = await Promise.all(
          Array.from({ length: 20 }, (_, i) => n0.run(["sh", "-c", `sleep 0.1; echo ${i}`], { stream: false })),
        );
        assert.deepEqual(rs.map((r) => r.stdout.trim()), Array.from({ length: 20 }, (_, i) => String(i)));
      });

      await t.step("argv quoting: injection attempts arrive literally and run nothing", async () => {
        const marker = join(lab.dir, "pwned");
        const evil = [
          `; touch ${marker}`,
          `$(touch ${marker})`,
          `\`touch ${marker}\``,
          `' ; touch ${marker}; '`,
          "a\nb",
        ];
        const r = await n0.run(["printf", "%s|", ...evil], { stream: false });
        assert.equal(r.stdout, evil.join("|") + "|");
        assert.throws(() => Deno.statSync(marker));
      });

      await t.step(
        "non-zero exit: CommandError names node and carries the stderr tail; check:false returns",
        async () => {
          await assert.rejects(
            () => n1.run({ cmd: "echo bad thing >&2; exit 3" }, { stream: false }),
            (e: unknown) =>
              e instanceof CommandError && e.node === "n1" && e.exitCode === 3 && /node n1/.test(e.message) &&
              /bad thing/.test(e.message),
          );
          const r = await n1.run({ cmd: "exit 4" }, { check: false, stream: false });
          assert.equal(r.exitCode, 4);
        },
      );

      await t.step("fan-out: per-node results; continueOnError keeps others; default stops and throws", async () => {
        const all = await cluster.run({ cmd: "hostname -I" }, { stream: false });
        assert.deepEqual(all.ok, ["n0", "n1", "n2"]);
        assert.deepEqual(
          all.outcomes.map((o) => o.status === "ok" && o.value.stdout.trim()),
          lab.nodes.map((n) => n.ip),
        );
        const mixed = await cluster.each(
          (n) => n.run(n.name === "n1" ? { cmd: "echo nope >&2; exit 9" } : ["true"], { stream: false }),
          {
            continueOnError: true,
          },
        );
        assert.deepEqual(mixed.ok, ["n0", "n2"]);
        assert.deepEqual(mixed.failed, ["n1"]);
        const f = mixed.outcomes[1];
        assert.ok(f.status === "failed" && f.cause === "exit" && f.stderrTail?.includes("nope"));
        await assert.rejects(
          () =>
            cluster.each((n) => n.run(n.name === "n0" ? ["false"] : ["sleep", "5"], { stream: false }), {
              concurrency: 1,
            }),
          (e: unknown) =>
            e instanceof FanoutError && e.result.failed.join() === "n0" && e.result.skipped.join() === "n1,n2" &&
            /n0/.test(e.message),
        );
      });

      await t.step("timeout kills the remote process group (no orphans)", async () => {
        const t0 = performance.now();
        await assert.rejects(
          () => n2.run({ cmd: "sleep 301.5 & sleep 302.5; wait" }, { timeout: 700, stream: false }),
          (e: unknown) => e instanceof RemoteTimeoutError && e.node === "n2",
        );
        assert.ok(performance.now() - t0 < 5000);
        await waitFor(() => processesMatching("sleep 301.5").length + processesMatching("sleep 302.5").length === 0, {
          timeout: 3000,
          interval: 100,
          what: "remote sleeps to be gone",
        });
      });

      await t.step("Ctrl-C (abort) kills the remote command too", async () => {
        const ac = new AbortController();
        setTimeout(() => ac.abort(new CancelledError("Ctrl-C")), 500);
        await assert.rejects(
          () => cluster.run({ cmd: "sleep 303.5" }, { signal: ac.signal, stream: false }),
          CancelledError,
        );
        await waitFor(() => processesMatching("sleep 303.5").length === 0, { timeout: 3000, what: "no orphans" });
      });

      await t.step("a step's timeout stops the remote commands of that step (pass the step's signal)", async () => {
        using store = ResultsStore.open(":memory:");
        const pb = definePlaybook({
          name: "step-timeout",
          description: "t",
          params: z.object({}),
          async run(ctx) {
            const c = connectCluster(inv);
            await ctx.step("slow", (s) => c.run({ cmd: "sleep 304.5" }, { signal: s.signal }), { timeoutMs: 500 });
          },
        });
        const out = await runPlaybook(pb, {}, { store });
        assert.equal(out.status, "failed");
        assert.match(String(store.steps(out.runId)[0].error), /timed out after 500 ms/);
        await waitFor(() => processesMatching("sleep 304.5").length === 0, { timeout: 3000, what: "no orphans" });
      });

      await t.step("bounded output: a 30 MB flood keeps a 1 MiB tail", async () => {
        const r = await n0.run({ cmd: "head -c 30000000 /dev/zero | tr '\\0' 'x'; echo; echo END" }, { stream: false });
        assert.equal(r.stdoutBytes, 30_000_000 + 5);
        assert.ok(r.stdout.length <= (1 << 20) + 100, `kept ${r.stdout.length}`);
        assert.ok(r.stdout.endsWith("END\n"));
      });

      await t.step("SFTP upload/download with sha256, waitFor on a remote file", async () => {
        const local = join(lab.dir, "blob.bin");
        const data = new Uint8Array(randomBytes(3 << 20));
        writeFileSync(local, data);
        const remote = `/tmp/hl-blob-${crypto.randomUUID()}`;
        const up = await n1.upload(local, remote);
        assert.equal(up.bytes, data.byteLength);
        assert.match(up.sha256, /^[0-9a-f]{64}$/);
        const back = join(lab.dir, "back.bin");
        const down = await n1.download(remote, back);
        assert.equal(down.sha256, up.sha256);
        assert.deepEqual(new Uint8Array(readFileSync(back)), data);
        await n1.run(["rm", "-f", remote], { stream: false });
        const flag = `/tmp/hl-flag-${crypto.randomUUID()}`;
        void n2.run({ cmd: `sleep 0.4; touch ${flag}` }, { stream: false });
        const seen = await waitFor(
          async () => (await n2.run(["test", "-e", flag], { check: false, stream: false })).exitCode === 0,
          {
            timeout: 5000,
            interval: 100,
            what: "flag file",
          },
        );
        assert.equal(seen, true);
        await n2.run(["rm", "-f", flag], { stream: false });
      });

      await t.step("reconnect after the connection was lost", async () => {
        await n1.run(["true"], { stream: false });
        const before = n1.connection.connects;
        await killSshd(lab.nodes[1]);
        await waitFor(() => !n1.connection.connected, { timeout: 3000, what: "loss noticed" });
        await startSshd(lab.nodes[1]);
        const r = await n1.run(["echo", "back"], { stream: false });
        assert.equal(r.stdout, "back\n");
        assert.equal(n1.connection.connects, before + 1);
      });

      await t.step("jump host: n2 reached through n0 (forwardOut)", async () => {
        const yaml = readFileSync(lab.inventory, "utf8").replace(/(- name: n2\n)/, "$1    jump: n0\n");
        const jinv = parseInventoryYaml(yaml, "jump.yaml", lab.dir);
        assert.equal(jinv.node("n2").jump?.name, "n0");
        using jc = connectCluster(jinv.limit("n2"));
        const r = await jc.node("n2").run({ cmd: 'echo "$SSH_CLIENT"' }, { stream: false });
        assert.equal(r.stdout.split(" ")[0], lab.nodes[0].ip, "connection came from n0");
      });

      await t.step("host keys: unknown refused by default; accept-new is explicit, logged and recorded", async () => {
        const kh = join(lab.dir, "empty_known_hosts");
        writeFileSync(kh, "");
        const yaml = readFileSync(lab.inventory, "utf8").replace("knownHosts: known_hosts", `knownHosts: ${kh}`);
        const inv2 = parseInventoryYaml(yaml, "kh.yaml", lab.dir).limit("n0");
        using strict = connectCluster(inv2);
        await assert.rejects(
          () => strict.origin.run(["true"], { stream: false }),
          (e: unknown) =>
            e instanceof RemoteError && e.reason === "host-key" && /not in/.test(e.message) && e.node === "n0",
        );
        using store = ResultsStore.open(":memory:");
        const pb = definePlaybook({
          name: "accept-new",
          description: "t",
          params: z.object({}),
          async run() {
            using c = connectCluster(inv2, { hostKeys: "accept-new" });
            return (await c.origin.run(["echo", "hi"])).stdout;
          },
        });
        const out = await runPlaybook(pb, {}, { store });
        assert.equal(out.status, "ok", String(out.error));
        const logs = store.logs(out.runId).map((l) => l.message).join("\n");
        assert.match(logs, /accepted unknown host key SHA256:/);
        assert.match(readFileSync(kh, "utf8"), new RegExp(lab.nodes[0].ip.replaceAll(".", "\\.")));
      });

      await t.step(
        "inside a run: lines stream into the record with the node as source; dry-run only plans",
        async () => {
          using store = ResultsStore.open(":memory:");
          const pb = definePlaybook({
            name: "stream",
            description: "t",
            params: z.object({}),
            async run(ctx) {
              const c = connectCluster(inv);
              return await ctx.step("hello", () => c.run(["sh", "-c", "echo hello from $(hostname -I)"]));
            },
          });
          const out = await runPlaybook(pb, {}, { store });
          assert.equal(out.status, "ok", String(out.error));
          const logs = store.logs(out.runId);
          for (const n of lab.nodes) {
            assert.ok(
              logs.some((l) => l.source === n.name && l.message.includes(`hello from ${n.ip}`)),
              `line of ${n.name}`,
            );
          }
          const marker = join(lab.dir, "dry-run-must-not-exist");
          const dry = definePlaybook({
            name: "dry",
            description: "t",
            params: z.object({}),
            async run() {
              const c = connectCluster(inv);
              return await c.run(["touch", marker]);
            },
          });
          const d = await runPlaybook(dry, {}, { store, dryRun: true });
          assert.equal(d.status, "ok");
          const plan = store.planEntries(d.runId);
          assert.deepEqual(plan.map((p) => [p.kind, p.target]), [["ssh", "n0"], ["ssh", "n1"], ["ssh", "n2"]]);
          assert.match(plan[0].action, /touch/);
          assert.throws(() => Deno.statSync(marker));
        },
      );
    });
    // everything is gone
    const ns = new TextDecoder().decode((await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout);
    assert.ok(!/hlr-n\d/.test(ns), `namespaces left: ${ns}`);
    await sleep(0);
  },
});

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { RunContext } from "../../../lib/core/context.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { type Inventory, loadInventory, parseInventoryYaml } from "../../../lib/inventory/mod.ts";
import { type CommandResult, connectCluster, type FanoutResult, type TransferResult } from "../../../lib/remote/mod.ts";
import { killSshd, type LabState, startSshd } from "../../../lib/lab/lab_nodes.ts";
import { retryLimit, retryTargets, waitFor } from "../../../lib/remote/mod.ts";
import { skipIf } from "../../_helpers.ts";
import { labSkipReason, withLab } from "./_lab.ts";

/** Runs `fn` as a recorded playbook step and checks the run record is complete. */
async function recorded<T>(
  store: ResultsStore,
  name: string,
  fn: (ctx: RunContext<Record<string, never>>) => Promise<T>,
): Promise<{ result: T; runId: number; logs: { source: string | null; level: string; message: string }[] }> {
  const pb = definePlaybook({
    name,
    description: "fault test",
    params: z.object({}),
    run: (ctx) => ctx.step(name, () => fn(ctx as never)),
  });
  const out = await runPlaybook<T>(pb, {}, { store });
  assert.equal(out.status, "ok", `run failed: ${out.error}`);
  const run = store.getRun(out.runId)!;
  assert.equal(run.status, "ok");
  const steps = store.steps(out.runId);
  assert.ok(steps.length >= 1 && steps.every((s) => s.status === "ok"), "every step recorded as finished");
  return { result: out.result as T, runId: out.runId, logs: store.logs(out.runId) };
}

function failedOutcome<T>(r: FanoutResult<T>, node: string) {
  const o = r.outcomes.find((x) => x.node === node);
  assert.ok(o && o.status === "failed", `${node} should have failed: ${JSON.stringify(o)}`);
  return o;
}

function labInventory(lab: LabState, edit: (yaml: string) => string = (y) => y): Inventory {
  return parseInventoryYaml(edit(readFileSync(lab.inventory, "utf8")), "faults.yaml", lab.dir);
}

Deno.test({
  name: "faults: each failing node is named with its cause, the others' results are kept, the record is complete",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await withLab("hlf", 202, 3, async (lab) => {
      using store = ResultsStore.open(":memory:");

      await t.step("sshd killed mid-run", async () => {
        const { result, logs } = await recorded(store, "sshd-killed", async () => {
          const c = connectCluster(labInventory(lab));
          await c.connectAll();
          setTimeout(() => void killSshd(lab.nodes[1]), 400);
          return await c.run({ cmd: "sleep 1.5; echo finished" }, { continueOnError: true, timeout: 10_000 });
        });
        assert.deepEqual(result.ok, ["n0", "n2"]);
        assert.ok(result.outcomes.every((o) => o.status !== "ok" || o.value.stdout === "finished\n"));
        const f = failedOutcome(result, "n1");
        assert.equal(f.cause, "connection-lost");
        assert.match(f.error, /node n1: .*lost/);
        assert.ok(logs.some((l) => l.source === "n1" && l.level === "error" && /lost/.test(l.message)));
        assert.ok(logs.some((l) => l.source === "n0" && l.message === "finished"));
        await startSshd(lab.nodes[1]);
      });

      await t.step("node that never answers: timeout, not a hang", async () => {
        const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const held: Deno.Conn[] = [];
        void (async () => {
          for await (const conn of silent) held.push(conn); // accept, never speak
        })();
        try {
          const inv = labInventory(lab, (y) => y + `  - { name: mute, host: 127.0.0.1, port: ${silent.addr.port} }\n`);
          const t0 = performance.now();
          const { result } = await recorded(store, "never-answers", async () => {
            const c = connectCluster(inv, { connectTimeoutMs: 800, retries: 1, backoffMs: 100 });
            return await c.run(["true"], { continueOnError: true });
          });
          const ms = performance.now() - t0;
          assert.ok(ms < 6000, `took ${ms} ms`);
          assert.deepEqual(result.ok, ["n0", "n1", "n2"]);
          const f = failedOutcome(result, "mute");
          assert.equal(f.cause, "unreachable");
          assert.match(f.error, /node mute: no SSH handshake from 127\.0\.0\.1:\d+ within 800 ms/);
          assert.equal(held.length, 2, "one attempt plus one retry");
        } finally {
          silent.close();
          for (const c of held) c.close();
        }
      });

      await t.step("node goes silent mid-command (link down): keepalives notice, no hang", async () => {
        const t0 = performance.now();
        const { result } = await recorded(store, "silent-mid-run", async () => {
          const c = connectCluster(labInventory(lab), { keepaliveIntervalMs: 300, keepaliveCountMax: 2 });
          await c.connectAll();
          setTimeout(
            () =>
              void new Deno.Command("ip", { args: ["-n", lab.nodes[2].ns, "link", "set", "eth0", "down"] }).output(),
            300,
          );
          return await c.run({ cmd: "sleep 2.5; echo done" }, { continueOnError: true });
        });
        await new Deno.Command("ip", { args: ["-n", lab.nodes[2].ns, "link", "set", "eth0", "up"] }).output();
        assert.ok(performance.now() - t0 < 10_000, "no hang");
        assert.deepEqual(result.ok, ["n0", "n1"]);
        const f = failedOutcome(result, "n2");
        assert.equal(f.cause, "connection-lost");
        assert.match(f.error, /node n2: .*lost/);
      });

      await t.step("stdout flood on every node: bounded memory, bounded log", async () => {
        const before = Deno.memoryUsage().rss;
        const { result, logs } = await recorded(store, "flood", async () => {
          const c = connectCluster(labInventory(lab));
          return await c.run({ cmd: "yes hyperlab-flood | head -c 40000000; echo; echo TAIL" }, {
            continueOnError: true,
          });
        });
        assert.deepEqual(result.ok, ["n0", "n1", "n2"]);
        for (const o of result.outcomes) {
          assert.ok(o.status === "ok");
          const v = o.value as CommandResult;
          assert.equal(v.stdoutBytes, 40_000_000 + 6);
          assert.ok(v.stdout.length <= (1 << 20) + 40, `${o.node} kept ${v.stdout.length}`);
          assert.ok(v.stdout.endsWith("TAIL\n"));
        }
        const grew = Deno.memoryUsage().rss - before;
        assert.ok(grew < 200 * 2 ** 20, `rss grew by ${(grew / 2 ** 20).toFixed(0)} MiB for 120 MB of output`);
        for (const n of ["n0", "n1", "n2"]) {
          const mine = logs.filter((l) => l.source === n);
          assert.ok(mine.length <= 2002, `${n}: ${mine.length} log lines`);
          assert.ok(mine.some((l) => /more lines not logged/.test(l.message)));
        }
      });

      await t.step("wrong host key", async () => {
        const kh = join(lab.dir, "wrong_known_hosts");
        const lines = readFileSync(lab.knownHosts, "utf8").trim().split("\n");
        const n0key = lines[0].split(" ").slice(1).join(" ");
        writeFileSync(
          kh,
          lines.map((l) => l.startsWith(lab.nodes[1].ip + " ") ? `${lab.nodes[1].ip} ${n0key}` : l).join("\n") + "\n",
        );
        const { result } = await recorded(store, "wrong-host-key", async () => {
          const c = connectCluster(labInventory(lab, (y) => y.replace("knownHosts: known_hosts", `knownHosts: ${kh}`)));
          return await c.run(["true"], { continueOnError: true });
        });
        assert.deepEqual(result.ok, ["n0", "n2"]);
        const f = failedOutcome(result, "n1");
        assert.equal(f.cause, "host-key");
        assert.match(f.error, /node n1: host key SHA256:\S+ of 10\.213\.202\.11:22 does not match/);
      });

      await t.step("missing key file", async () => {
        const { result } = await recorded(store, "missing-key", async () => {
          const inv = labInventory(lab, (y) => y.replace(/(- name: n2\n)/, "$1    key: /nonexistent/id_missing\n"));
          return await connectCluster(inv).run(["true"], { continueOnError: true });
        });
        assert.deepEqual(result.ok, ["n0", "n1"]);
        const f = failedOutcome(result, "n2");
        assert.equal(f.cause, "key-file");
        assert.match(f.error, /node n2: cannot read private key \/nonexistent\/id_missing/);
      });

      await t.step("node disappears during file transfer", async () => {
        const local = join(lab.dir, "big.bin");
        writeFileSync(local, randomBytes(48 << 20));
        const remote = `/tmp/hl-fault-upload-${crypto.randomUUID()}`;
        const { result } = await recorded(store, "transfer-loss", async () => {
          const c = connectCluster(labInventory(lab));
          await c.connectAll();
          // Kill n1's sshd as soon as its partial file has data (lab nodes share this filesystem).
          const killer = waitFor(() => {
            const part = readdirSync(dirname(remote)).find((f) => f.startsWith(`${remote.split("/").pop()}.hl-part-`));
            return part !== undefined && Deno.statSync(join(dirname(remote), part)).size > 0;
          }, { timeout: 20_000, interval: 10, what: "upload to start" }).then(() => killSshd(lab.nodes[1]));
          const r = await c.each<TransferResult>(
            (n) => n.upload(local, n.name === "n1" ? remote : `${remote}-${n.name}`),
            {
              continueOnError: true,
            },
          );
          await killer;
          return r;
        });
        assert.deepEqual(result.ok, ["n0", "n2"]);
        const f = failedOutcome(result, "n1");
        assert.equal(f.cause, "transfer");
        assert.match(f.error, /node n1: upload .* (interrupted|failed)/);
        assert.ok(!existsSync(remote), "no file under the final name after an interrupted upload");
        for (const n of ["n0", "n2"]) {
          assert.equal(readFileSync(`${remote}-${n}`).byteLength, 48 << 20);
          Deno.removeSync(`${remote}-${n}`);
        }
        for (const f of readdirSync("/tmp").filter((x) => x.startsWith(remote.split("/").pop()!))) {
          Deno.removeSync(`/tmp/${f}`);
        }
        await startSshd(lab.nodes[1]);
      });

      await t.step("retry re-targets only the failed and skipped nodes", async () => {
        const pb = definePlaybook({
          name: "flaky",
          description: "fails on n1",
          params: z.object({ limit: z.string().optional(), fixed: z.boolean().default(false) }),
          run: async (ctx) => {
            const c = connectCluster(await loadInventory(lab.inventory, ctx.params.limit));
            return await c.each((n) => n.run(n.name === "n1" && !ctx.params.fixed ? ["false"] : ["true"]), {
              concurrency: 1,
            });
          },
        });
        const first = await runPlaybook(pb, {}, { store });
        assert.equal(first.status, "failed");
        assert.deepEqual(retryTargets(store, first.runId), ["n1", "n2"], "n1 failed, n2 was skipped after it");
        const limit = retryLimit(store, first.runId);
        const second = await runPlaybook<FanoutResult<unknown>>(pb, { limit, fixed: true }, {
          store,
          parentRun: first.runId,
        });
        assert.equal(second.status, "ok", String(second.error));
        assert.deepEqual(second.result!.ok, ["n1", "n2"]);
        assert.equal(store.getRun(second.runId)!.parent_run, first.runId);
        assert.throws(() => retryTargets(store, second.runId), /a run with failed nodes/);
        assert.throws(() => retryTargets(store, 999_999), /--retry/);
      });
    });
  },
});

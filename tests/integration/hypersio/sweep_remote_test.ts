/**
 * `hypersio/explore --inventory`: sweep points split across a real 2-node lab (network namespaces, real sshd),
 * compared with the same sweep on local Workers, and a node killed mid-sweep (its points finish on the other node,
 * it is named in failedNodes and `cluster.node_failed`, and a retry on it resumes from the journal).
 * Private lab: prefix `hsr`, subnet 223.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readJournal, runModel, runSweep, writeSyntheticLog } from "../../../lib/hypersio/mod.ts";
import { ExecutorLostError, type PointExecutor, type SweepJob } from "../../../lib/hypersio/sweep.ts";
import { summarize } from "../../../lib/hypersio/sweep_summary.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { killSshd, LAB_HOME, startSshd } from "../../../lib/lab/lab_nodes.ts";
import { retryTargets, sha256File } from "../../../lib/remote/mod.ts";
import explore from "../../../playbooks/hypersio/explore.ts";
import { InputError } from "../../../lib/core/errors.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { labSkipReason, processesMatching, withLab } from "../cluster/_lab.ts";

type Result = {
  points: number;
  computed: number;
  resumed: number;
  pointsByNode: Record<string, number>;
  failedNodes: string[];
  journal: string;
};

/** Metrics of a run as comparable rows (model CPU time is not a result: it differs between machines). */
function pointMetrics(store: ResultsStore, runId: number): string[] {
  return store.metrics(runId)
    .filter((m) => !m.name.startsWith("cluster.") && m.name !== "model_cpu")
    .map((m) => JSON.stringify([m.name, m.value, m.unit, m.tags]))
    .sort();
}

Deno.test({
  name: "hypersio explore --inventory: points split across lab nodes equal a local run; a node killed mid-sweep",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    using d = tempDir("hyperlab-sweep-remote-");
    Deno.mkdirSync(`${d.path}/logs`);
    for (let k = 0; k < 2; k++) {
      await writeSyntheticLog(`${d.path}/logs/s_vm_4_${k}.txt`, {
        devices: 4,
        translationsPerDevice: 300,
        seed: k + 5,
      });
    }
    const logPrefix = `${d.path}/logs/s_vm_4`;
    const cwd = Deno.cwd();
    Deno.chdir(d.path); // the playbook keeps journals and traces under ./.hyperlab
    try {
      await withLab("hsr", 223, 2, async (lab) => {
        using store = ResultsStore.open(":memory:");
        const play = async (params: Record<string, unknown>, signal?: AbortSignal) => {
          const out = await runPlaybook(explore, { logPrefix, ...params }, { store, signal });
          if (out.status === "failed" && params.sweep !== "dead") {
            // What the nodes' sshd said, to tell a lab problem from a sweep problem.
            for (const n of lab.nodes) {
              const log = join(n.dir, "sshd.log");
              console.error(
                `${n.name} sshd.log:\n${existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "(none)"}`,
              );
            }
          }
          return { ...out, result: out.result as Result };
        };
        const grid = { tenants: [1, 2, 4, 8], iotlbSize: [16, 64], l2Size: [0, 512] };

        await t.step("split across 2 nodes = local workers, recorded the same way", async () => {
          const local = await play({ sweep: "local", workers: 2, ...grid });
          assert.equal(local.status, "ok", String(local.error));
          const remote = await play({ sweep: "remote", inventory: lab.inventory, ...grid });
          assert.equal(remote.status, "ok", String(remote.error));
          assert.equal(remote.result.points, 16);
          assert.equal(remote.result.computed, 16);
          assert.deepEqual(remote.result.failedNodes, []);
          assert.ok(!("local" in remote.result.pointsByNode), "no local worker with an inventory by default");
          assert.ok(remote.result.pointsByNode.n0 > 0 && remote.result.pointsByNode.n1 > 0, "both nodes ran points");
          // Same numbers, same metrics with the same tags, as the local run.
          assert.deepEqual(pointMetrics(store, remote.runId), pointMetrics(store, local.runId));
          const lj = await readJournal(local.result.journal), rj = await readJournal(remote.result.journal);
          assert.equal(rj.size, 16);
          for (const [key, r] of rj) {
            assert.ok(r.node === "n0" || r.node === "n1", `journal names the node: ${JSON.stringify(r)}`);
            assert.deepEqual({ ...r.summary, modelMs: 0 }, { ...lj.get(key)!.summary, modelMs: 0 });
          }
          // Each trace shipped by content hash, at most once per node, and present in the nodes' cache.
          const uploads = store.logs(remote.runId).filter((l) => /^uploading trace/.test(l.message))
            .map((l) => `${l.source} ${l.message}`);
          assert.equal(new Set(uploads).size, uploads.length, `a trace uploaded twice to a node: ${uploads}`);
          for (const tenants of grid.tenants) {
            const trace = `.hyperlab/hypersio/traces`;
            const files = [...Deno.readDirSync(trace)].flatMap((e) =>
              [...Deno.readDirSync(join(trace, e.name))].map((f) => join(trace, e.name, f.name))
            ).filter((f) => f.includes(`_tnt_${tenants}_`) && f.endsWith("iotlb_trace.bin"));
            assert.equal(files.length, 1);
            const hash = await sha256File(files[0]);
            assert.ok(existsSync(`${LAB_HOME}/.cache/hyperlab/hypersio-traces/${hash}.bin`), `trace ${hash} on nodes`);
          }
        });

        await t.step("a node killed mid-sweep: its points finish on the other, it is named for --retry", async () => {
          const big = { tenants: [1, 2, 4, 8], iotlbSize: [8, 16, 32, 64], l2Size: [0, 512], tqueue: [1, 4] };
          const journal = ".hyperlab/hypersio/sweeps/killed.jsonl";
          let killed = false, finished = false;
          const watcher = (async () => {
            // Kill n1 (its sshd and every session) once it has finished a point of this sweep.
            for (let i = 0; i < 600 && !killed && !finished; i++) {
              await new Promise((r) => setTimeout(r, 50));
              if (existsSync(journal) && readFileSync(journal, "utf8").includes('"node":"n1"')) {
                await killSshd(lab.nodes[1]);
                killed = true;
              }
            }
          })();
          const run = await play({ sweep: "killed", inventory: lab.inventory, ...big }).finally(() => finished = true);
          await watcher;
          if (Deno.env.get("SWEEP_REMOTE_DEBUG")) {
            for (const l of store.logs(run.runId)) console.log(l.source, l.level, l.message);
          }
          assert.ok(killed, "n1 was killed during the sweep");
          assert.equal(run.status, "ok", String(run.error));
          assert.equal(run.result.points, 64);
          assert.deepEqual(run.result.failedNodes, ["n1"]);
          assert.ok(run.result.pointsByNode.n0 > run.result.pointsByNode.n1, JSON.stringify(run.result.pointsByNode));
          assert.equal((await readJournal(journal)).size, 64, "every point journaled once");
          assert.equal(store.metrics(run.runId).filter((m) => m.name === "utilization").length, 64);
          const failed = store.metrics(run.runId).filter((m) => m.name === "cluster.node_failed");
          assert.deepEqual(failed.map((m) => m.tags.node), ["n1"]);
          assert.ok(
            store.logs(run.runId).some((l) =>
              l.source === "n1" && l.level === "error" && /node failed/.test(l.message)
            ),
          );
          assert.deepEqual(retryTargets(store, run.runId), ["n1"]);
          // The killed sweep's numbers equal a local run of the same grid.
          const local = await play({ sweep: "killed-local", workers: 2, ...big });
          assert.deepEqual(pointMetrics(store, run.runId), pointMetrics(store, local.runId));
          // Retry on n1 (as `--retry` does: same params, limit = failed nodes): everything resumes from the journal.
          await startSshd(lab.nodes[1]);
          const again = await play({ sweep: "killed", inventory: lab.inventory, limit: "n1", ...big });
          assert.equal(again.status, "ok", String(again.error));
          assert.equal(again.result.resumed, 64);
          assert.equal(again.result.computed, 0);
        });

        await t.step("cancelled mid-sweep: no point runner left on the nodes; the rerun resumes the rest", async () => {
          const grid2 = { tenants: [1, 2, 4, 8], iotlbSize: [8, 16, 32, 64], tqueue: [1, 2, 3, 4] };
          const journal = ".hyperlab/hypersio/sweeps/cancelled.jsonl";
          const ac = new AbortController();
          const watcher = setInterval(() => {
            if (existsSync(journal) && readFileSync(journal, "utf8").split("\n").length > 6) ac.abort("test cancels");
          }, 20);
          const run = await play({ sweep: "cancelled", inventory: lab.inventory, ...grid2 }, ac.signal)
            .finally(() => clearInterval(watcher));
          assert.equal(run.status, "interrupted", String(run.error));
          const saved = (await readJournal(journal)).size;
          assert.ok(saved >= 6 && saved < 64, `journal has ${saved} points`);
          // Runners in flight were killed with their remote process groups.
          for (let i = 0; i < 50 && processesMatching("hypersio-point-").length; i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.deepEqual(processesMatching("hypersio-point-"), []);
          const again = await play({ sweep: "cancelled", inventory: lab.inventory, ...grid2 });
          assert.equal(again.status, "ok", String(again.error));
          assert.equal(again.result.resumed, saved);
          assert.equal(again.result.computed, 64 - saved);
        });

        await t.step("every node gone: the sweep fails naming them, both are retry targets", async () => {
          await killSshd(lab.nodes[0]);
          await killSshd(lab.nodes[1]);
          const run = await play({ sweep: "dead", inventory: lab.inventory, tenants: [1, 2], pointTimeoutMs: 20_000 });
          assert.equal(run.status, "failed");
          assert.match(String(run.error), /every executor failed.*n0.*n1|every executor failed.*n1.*n0/s);
          const failed = store.metrics(run.runId).filter((m) => m.name === "cluster.node_failed").map((m) =>
            m.tags.node
          );
          assert.deepEqual(failed.sort(), ["n0", "n1"]);
          assert.deepEqual(retryTargets(store, run.runId).sort(), ["n0", "n1"]);
        });
      });
    } finally {
      Deno.chdir(cwd);
    }
  },
});

/** An executor running points in-process; `loseAfter` points in, it fails like a lost node. */
function fakeExecutor(name: string, slots: number, opts: { loseAfter?: number; pointError?: boolean } = {}) {
  let started = 0;
  const ex: PointExecutor & { ran: number } = {
    name,
    ran: 0,
    open: () => Promise.resolve(slots),
    async run(job: SweepJob) {
      await new Promise((r) => setTimeout(r, 5));
      if (opts.loseAfter !== undefined && ++started > opts.loseAfter) {
        throw new ExecutorLostError(name, "connection-lost", `node ${name}: connection lost`);
      }
      if (opts.pointError) throw new Error("bad point");
      ex.ran++;
      return summarize(runModel(job.path, job.config, job.options), 0);
    },
    close() {},
  };
  return ex;
}

Deno.test("hypersio sweep executors: a lost executor's points go to the others; none left fails keeping the journal", async () => {
  using d = tempDir("hyperlab-sweep-exec-");
  Deno.mkdirSync(`${d.path}/logs`);
  await writeSyntheticLog(`${d.path}/logs/s_vm_4_0.txt`, { devices: 4, translationsPerDevice: 200, seed: 3 });
  const base = { grid: { tenants: [1, 2, 4], iotlbSize: [8, 16, 32, 64] }, logPrefix: `${d.path}/logs/s_vm_4` };
  const traceDir = `${d.path}/traces`;
  const local = await runSweep({ ...base, traceDir, journal: `${d.path}/local.jsonl`, workers: 2 });

  // a is lost after 2 points (and its in-flight ones): b finishes the sweep; same numbers as local Workers.
  const a = fakeExecutor("a", 2, { loseAfter: 2 }), b = fakeExecutor("b", 1);
  const lostSeen: string[] = [];
  const mixed = await runSweep({
    ...base,
    traceDir,
    journal: `${d.path}/mixed.jsonl`,
    executors: [a, b],
    onExecutorLost: (name, err) => void lostSeen.push(`${name}:${err.reason}`),
  });
  assert.deepEqual(mixed.lost, ["a"]);
  assert.deepEqual(lostSeen, ["a:connection-lost"]);
  assert.equal(mixed.computed, 12);
  assert.equal(a.ran + b.ran, 12);
  assert.ok(a.ran <= 2 && b.ran >= 10);
  const byKey = new Map(local.points.map((r) => [r.key, r.summary]));
  for (const r of mixed.points) {
    assert.deepEqual({ ...r.summary, modelMs: 0 }, { ...byKey.get(r.key)!, modelMs: 0 });
    assert.ok(r.node === "a" || r.node === "b", `journaled with its executor: ${r.node}`);
  }

  // Only a lost executor: the sweep fails naming it; what finished stays journaled and a re-run resumes it.
  const journal = `${d.path}/dead.jsonl`;
  await assert.rejects(
    () => runSweep({ ...base, traceDir, journal, executors: [fakeExecutor("c", 1, { loseAfter: 3 })] }),
    /9 point\(s\) not run: every executor failed \(node c: connection lost\)/,
  );
  assert.equal((await readJournal(journal)).size, 3);
  const resumed = await runSweep({ ...base, traceDir, journal, workers: 1 });
  assert.equal(resumed.resumed, 3);
  assert.equal(resumed.computed, 9);

  // A point's own error fails the sweep (as it would on a local Worker), naming the point.
  await assert.rejects(
    () =>
      runSweep({
        ...base,
        traceDir,
        journal: `${d.path}/bad.jsonl`,
        executors: [fakeExecutor("e", 1, { pointError: true })],
      }),
    /sweep point \{"tenants":1,.*bad point/,
  );
  // No local Workers and no executor is refused, naming the field.
  await assert.rejects(
    () => runSweep({ ...base, traceDir, journal: `${d.path}/none.jsonl`, workers: 0 }),
    (e: unknown) => e instanceof InputError && e.field === "workers",
  );
});

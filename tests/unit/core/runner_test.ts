import assert from "node:assert/strict";
import { z } from "zod";
import { effect } from "../../../lib/core/ambient.ts";
import { InputError, TimeoutError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";

function store() {
  return ResultsStore.open(":memory:");
}

Deno.test("a run records params, nested steps, logs, metrics, artifacts and result", async () => {
  using s = store();
  const pb = definePlaybook({
    name: "t-record",
    description: "d",
    params: z.object({ n: z.number().default(3) }),
    async run(ctx) {
      await ctx.step("outer", async () => {
        await ctx.step("inner", () => ctx.log.info("inside inner", "node-a"));
        ctx.metric("m", 1.5, "s", { k: "v" });
      });
      await ctx.artifact("a.txt", "hello");
      return { n: ctx.params.n };
    },
  });
  const out = await runPlaybook(pb, {}, { store: s });
  assert.equal(out.status, "ok");
  const run = s.getRun(out.runId)!;
  assert.equal(run.status, "ok");
  assert.deepEqual(run.params, { n: 3 });
  assert.deepEqual(run.result, { n: 3 });
  const steps = s.steps(out.runId);
  assert.deepEqual(steps.map((x) => [x.name, x.status]), [["outer", "ok"], ["inner", "ok"]]);
  assert.equal(steps[1].parent_id, steps[0].id);
  const logs = s.logs(out.runId);
  assert.equal(logs[0].message, "inside inner");
  assert.equal(logs[0].source, "node-a");
  assert.equal(logs[0].step_id, steps[1].id);
  assert.deepEqual(s.metrics(out.runId).map((m) => [m.name, m.value, m.unit, m.tags]), [["m", 1.5, "s", { k: "v" }]]);
  const art = s.artifacts(out.runId)[0];
  assert.equal(new TextDecoder().decode(s.artifactData(art.id)), "hello");
  assert.equal(art.media_type, "text/plain");
});

Deno.test("bad params fail before a run is recorded, naming the field", async () => {
  using s = store();
  const pb = definePlaybook({
    name: "t-params",
    description: "d",
    params: z.object({ n: z.number().int().min(1) }),
    run() {},
  });
  await assert.rejects(
    () => runPlaybook(pb, { n: 0 }, { store: s }),
    (e: unknown) => e instanceof InputError && /n:/.test(e.message),
  );
  assert.equal(s.listRuns().length, 0);
});

Deno.test("a failing step fails the run, keeps earlier records and runs defers in reverse order", async () => {
  using s = store();
  const order: string[] = [];
  const pb = definePlaybook({
    name: "t-fail",
    description: "d",
    params: z.object({}),
    async run(ctx) {
      ctx.defer(() => void order.push("first"));
      ctx.defer(() => void order.push("second"));
      await ctx.step("ok step", () => ctx.metric("before", 1));
      await ctx.step("bad step", () => {
        throw new Error("kaput");
      });
      order.push("not reached");
    },
  });
  const out = await runPlaybook(pb, {}, { store: s });
  assert.equal(out.status, "failed");
  assert.deepEqual(order, ["second", "first"]);
  const run = s.getRun(out.runId)!;
  assert.match(run.error!, /kaput/);
  assert.deepEqual(s.steps(out.runId).map((x) => x.status), ["ok", "failed"]);
  assert.equal(s.metrics(out.runId).length, 1);
});

Deno.test("step timeout fails the step with a TimeoutError and aborts its signal", async () => {
  using s = store();
  let aborted = false;
  const pb = definePlaybook({
    name: "t-timeout",
    description: "d",
    params: z.object({}),
    async run(ctx) {
      await ctx.step("slow", ({ signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          });
        }), { timeoutMs: 50 });
    },
  });
  const out = await runPlaybook(pb, {}, { store: s });
  assert.equal(out.status, "failed");
  assert.ok(out.error instanceof TimeoutError);
  assert.ok(aborted);
  assert.match(s.steps(out.runId)[0].error!, /timed out after 50 ms/);
});

Deno.test("cancellation marks the run and its open step interrupted and still runs defers", async () => {
  using s = store();
  const ctrl = new AbortController();
  let cleaned = false;
  const pb = definePlaybook({
    name: "t-cancel",
    description: "d",
    params: z.object({}),
    async run(ctx) {
      ctx.defer(() => {
        cleaned = true;
      });
      await ctx.step("done", () => {});
      await ctx.step("waits forever", () => {
        setTimeout(() => ctrl.abort("Ctrl-C"), 20);
        return new Promise(() => {});
      });
    },
  });
  const out = await runPlaybook(pb, {}, { store: s, signal: ctrl.signal });
  assert.equal(out.status, "interrupted");
  assert.ok(cleaned);
  assert.equal(s.getRun(out.runId)!.status, "interrupted");
  assert.deepEqual(s.steps(out.runId).map((x) => x.status), ["ok", "interrupted"]);
});

Deno.test("dry run records the plan through effect() and skips the side effect", async () => {
  using s = store();
  let done = 0;
  const pb = definePlaybook({
    name: "t-dry",
    description: "d",
    params: z.object({}),
    async run(ctx) {
      const v = await ctx.step("act", () =>
        effect({ kind: "ssh", target: "node1", action: "rm -rf /scratch" }, () => {
          done++;
          return "real";
        }, () => "planned"));
      return { v };
    },
  });
  const dry = await runPlaybook(pb, {}, { store: s, dryRun: true });
  assert.equal(done, 0);
  assert.deepEqual(dry.result, { v: "planned" });
  assert.deepEqual(s.planEntries(dry.runId).map((p) => [p.kind, p.target, p.action]), [[
    "ssh",
    "node1",
    "rm -rf /scratch",
  ]]);
  assert.equal(s.getRun(dry.runId)!.dry_run, true);
  const wet = await runPlaybook(pb, {}, { store: s });
  assert.equal(done, 1);
  assert.deepEqual(wet.result, { v: "real" });
});

Deno.test("secrets are masked in logs, errors, params and results", async () => {
  using s = store();
  const pb = definePlaybook({
    name: "t-secret",
    description: "d",
    params: z.object({ password: z.string() }),
    async run(ctx) {
      ctx.secret(ctx.params.password);
      ctx.log.info(`logging in with ${ctx.params.password}`);
      await ctx.step("fails", () => {
        throw new Error(`auth failed for ${ctx.params.password}`);
      });
    },
  });
  const out = await runPlaybook(pb, { password: "hunter2-secret" }, { store: s, secrets: ["hunter2-secret"] });
  const dump = JSON.stringify([s.getRun(out.runId), s.logs(out.runId), s.steps(out.runId)]);
  assert.ok(!dump.includes("hunter2-secret"), dump);
  assert.ok(dump.includes("***"));
});

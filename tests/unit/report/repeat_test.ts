import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import { repeat } from "../../../lib/report/repeat.ts";
import { compareRuns } from "../../../lib/results/compare.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { tempDir } from "../../_helpers.ts";
import { recordRun } from "./_run.ts";

Deno.test("repeat: every repetition is recorded with its tag; warm-ups are kept but left out of statistics", async () => {
  using dir = tempDir();
  using store = ResultsStore.open(join(dir.path, "r.db"));
  const id = await recordRun(store);
  const lat = store.metrics(id).filter((m) => m.name === "latency" && m.tags.mode === "a");
  assert.equal(lat.length, 10, "2 warm-ups + 8 measured");
  assert.deepEqual(lat.map((m) => m.tags.rep), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  assert.deepEqual(lat.map((m) => m.tags.warmup === "true"), [
    true,
    true,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
  const row = compareRuns(store, [id]).rows.find((r) => r.metric === "latency{mode=a}")!;
  assert.equal(row.cells[0]!.n, 8);
  assert.ok(row.cells[0]!.mean < 20, "the 50 ms warm-ups do not count");
});

Deno.test("repeat: returns measured values; bad counts and non-numbers fail clearly", async () => {
  const seen: string[] = [];
  const ctx = { metric: (n: string, v: number) => seen.push(`${n}=${v}`), throwIfCancelled() {} };
  const vals = await repeat(ctx, "x", 3, { warmup: 1 }, ({ index }) => index * 2);
  assert.deepEqual(vals, [2, 4, 6]);
  assert.deepEqual(seen, ["x=0", "x=2", "x=4", "x=6"]);
  await assert.rejects(repeat(ctx, "x", 0, {}, () => 1), (e) => e instanceof InputError && e.field === "repeat x: n");
  await assert.rejects(
    repeat(ctx, "x", 2, { warmup: -1 }, () => 1),
    (e) => e instanceof InputError && e.field === "repeat x: warmup",
  );
  await assert.rejects(repeat(ctx, "x", 2, {}, () => NaN), /repetition 0 returned NaN/);
});

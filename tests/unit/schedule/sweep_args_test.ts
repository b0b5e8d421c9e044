import assert from "node:assert/strict";
import { z } from "zod";
import { InputError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { sweepPointsFromArgs } from "../../../lib/schedule/sweep_args.ts";

const pb = definePlaybook({
  name: "grid",
  description: "sweep target",
  params: z.object({ vcpus: z.number().int(), mode: z.enum(["fast", "slow"]), label: z.string().default("x") }),
  run() {},
});

Deno.test("sweep args: the grid's cartesian product, typed by the playbook's flags, with fixed values", () => {
  const pts = sweepPointsFromArgs(pb, ["--grid", "vcpus=1,2,4", "--grid=mode=fast,slow", "--label", "night"]);
  assert.equal(pts.length, 6);
  assert.deepEqual(pts[0], { label: "night", vcpus: 1, mode: "fast" });
  assert.deepEqual(pts[5], { label: "night", vcpus: 4, mode: "slow" });
});

Deno.test("sweep args: bad grids and values name the flag", () => {
  const field = (args: string[], f: string) =>
    assert.throws(() => sweepPointsFromArgs(pb, args), (e) => e instanceof InputError && e.field === f);
  field(["--label", "x"], "--grid");
  field(["--grid", "vcpus"], "--grid");
  field(["--grid", "cores=1,2"], "--grid");
  field(["--grid", "vcpus=1,two"], "--vcpus");
  field(["--grid", "mode=fast,medium"], "--mode");
  field(["--grid", "vcpus=1", "--frob", "1"], "--frob");
});

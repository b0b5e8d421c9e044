import assert from "node:assert/strict";
import { z } from "zod";
import { flagsOf, kebab, parseFlags } from "../../../lib/cli/flags.ts";
import { InputError } from "../../../lib/core/errors.ts";

const schema = z.object({
  nodeCount: z.number().int().min(1).default(2).describe("how many nodes"),
  ratio: z.number().default(0.5),
  mode: z.enum(["expand", "shrink"]).describe("action"),
  dryish: z.boolean().default(false),
  hosts: z.array(z.string()).default([]),
  ratios: z.array(z.number()).default([1]),
  label: z.string().optional(),
});

Deno.test("flagsOf derives kebab flags, kinds, defaults, choices and help", () => {
  const f = Object.fromEntries(flagsOf(schema).map((s) => [s.key, s]));
  assert.equal(f.nodeCount.flag, "--node-count");
  assert.equal(f.nodeCount.kind, "integer");
  assert.equal(f.nodeCount.default, 2);
  assert.equal(f.nodeCount.description, "how many nodes");
  assert.equal(f.ratio.kind, "number");
  assert.deepEqual(f.mode.choices, ["expand", "shrink"]);
  assert.equal(f.mode.required, true);
  assert.equal(f.label.required, false);
  assert.equal(f.hosts.array, true);
  assert.equal(kebab("max_clones"), "max-clones");
});

Deno.test("parseFlags converts values and handles booleans, arrays and inline values", () => {
  const specs = flagsOf(schema);
  const { values, rest } = parseFlags(specs, [
    "--node-count=4",
    "--mode",
    "shrink",
    "--dryish",
    "--hosts",
    "a,b",
    "--hosts",
    "c",
    "--ratios",
    "1,0.75,0.5",
    "--ratio",
    "-0.25",
    "--unknown",
    "x",
  ]);
  assert.deepEqual(values, {
    nodeCount: 4,
    mode: "shrink",
    dryish: true,
    hosts: ["a", "b", "c"],
    ratios: [1, 0.75, 0.5],
    ratio: -0.25,
  });
  assert.deepEqual(rest, ["--unknown", "x"]);
  assert.deepEqual(parseFlags(specs, ["--no-dryish"]).values, { dryish: false });
});

Deno.test("parseFlags errors name the flag and the expectation", () => {
  const specs = flagsOf(schema);
  const cases: [string[], RegExp][] = [
    [["--node-count", "two"], /--node-count: expected an integer \(got "two"\)/],
    [["--node-count", "1.5"], /--node-count: expected an integer/],
    [["--ratio", "abc"], /--ratio: expected a number/],
    [["--mode", "sideways"], /--mode: expected one of expand, shrink \(got "sideways"\)/],
    [["--ratios", "1,x"], /--ratios: expected a number \(got "x"\)/],
    [["--mode"], /--mode: expected a value/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => parseFlags(specs, argv), (e: unknown) => e instanceof InputError && re.test(e.message));
  }
});

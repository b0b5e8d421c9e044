/** The runtime-vs-ratio chart: one line per swap target plus the flat all-local baseline. */
import assert from "node:assert/strict";
import { runtimeChart } from "../../../playbooks/scalevisor/plot.ts";

Deno.test("scalevisor chart: remote and local-disk lines, baseline flat across the swept ratios", () => {
  const svg = runtimeChart(
    [
      { ratio: 1, swap: "remote", wallSeconds: 4 },
      { ratio: 0.5, swap: "remote", wallSeconds: 9 },
      { ratio: 0.5, swap: "local-disk", wallSeconds: 7 },
      { ratio: 1, swap: "local-disk", wallSeconds: 4.5 },
    ],
    3,
    { merge: true },
  );
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /remote swap, merge on/);
  assert.match(svg, /local disk swap/);
  assert.match(svg, /all memory local/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3, "three lines");
  // dot tooltips carry the data: baseline at both ratios, local-disk sorted by ratio
  for (const t of ["all memory local: 0.5, 3", "all memory local: 1, 3", "local disk swap: 0.5, 7"]) {
    assert.ok(svg.includes(`<title>${t}</title>`), t);
  }
  const one = runtimeChart([{ ratio: 0.5, swap: "remote", wallSeconds: 9 }], 3, { merge: false });
  assert.doesNotMatch(one, /local disk swap/);
  assert.match(one, /merge off/);
});

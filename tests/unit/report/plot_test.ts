import assert from "node:assert/strict";
import { barChart, lineChart, niceTicks, timeline } from "../../../lib/plot/mod.ts";

function wellFormed(svg: string) {
  assert.ok(svg.startsWith("<svg ") && svg.endsWith("</svg>"));
  const opens = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
  const closes = (svg.match(/<\/[a-z]+>/g) ?? []).length;
  assert.equal(opens, closes, "every open tag is closed");
}

Deno.test("plot: nice ticks cover the data with round steps", () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0.13, 0.87), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const t = niceTicks(5, 5);
  assert.ok(t[0] < 5 && t[t.length - 1] > 5, "a constant gets a visible range");
});

Deno.test("plot: line, bar and timeline charts are well-formed SVG with escaped text", () => {
  const line = lineChart({
    title: "lat <ms>",
    series: [{ name: "a&b", points: [[0, 1], [1, 3], [2, 2]] }, { name: "c", points: [[0, 2], [1, NaN]] }],
  });
  wellFormed(line);
  assert.match(line, /lat &lt;ms&gt;/);
  assert.match(line, /a&amp;b/);
  assert.equal((line.match(/<path /g) ?? []).length, 1, "a single finite point draws no line");
  assert.equal((line.match(/<circle /g) ?? []).length, 4);
  const bar = barChart({ title: "means", bars: [{ label: "x", value: 3, err: 1 }, { label: "y", value: -2 }] });
  wellFormed(bar);
  assert.equal((bar.match(/<rect /g) ?? []).length, 3, "background + 2 bars");
  const tl = timeline({
    title: "steps",
    intervals: [{ label: "a", start: 0, end: 1000, status: "ok" }, {
      label: "b",
      start: 500,
      end: null,
      status: "failed",
    }],
  });
  wellFormed(tl);
  assert.match(tl, /#D55E00/);
});

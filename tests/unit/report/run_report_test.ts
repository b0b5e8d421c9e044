import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import { reportCommand } from "../../../lib/report/report_cli.ts";
import { renderRunReport } from "../../../lib/report/run_report.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { tempDir } from "../../_helpers.ts";
import { recordRun } from "./_run.ts";

Deno.test("report: one self-contained HTML file with params, facts, steps, stats, plots, artifacts and logs", async () => {
  using dir = tempDir();
  using store = ResultsStore.open(join(dir.path, "r.db"));
  const id = await recordRun(store);
  const html = renderRunReport(store, id);
  assert.match(html, /<h1>Run 1: report-fixture <span class="status ok">ok<\/span>/);
  assert.match(html, /&lt;b&gt;bold&lt;\/b&gt;/, "params escaped");
  assert.match(html, /test cpu/, "node facts");
  assert.match(html, /hyperlab commit/);
  for (const step of ["prepare", "inner", "measure"]) assert.ok(html.includes(`>${step}<`) || html.includes(step));
  assert.match(html, /<svg [^>]*aria-label="Step timeline"/);
  assert.match(html, /<svg [^>]*aria-label="latency per sample"/);
  assert.match(html, /<svg [^>]*aria-label="latency: mean ± 95% CI"/);
  assert.match(html, /latency\{mode=a\}<\/td><td>ms<\/td><td class="num">8 <span class="muted">\(\+2 warm-up\)/);
  assert.match(html, /src="data:image\/png;base64,iVBORw0KGgo/);
  assert.match(html, /line &lt;two&gt;/);
  assert.match(html, /preparing &lt;script&gt;alert\(1\)&lt;\/script&gt;/, "log lines escaped");
  assert.doesNotMatch(html, /<script/i);
  const urls = [...html.matchAll(/(?:src|href)="(?!data:)([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, [], "nothing is loaded from outside the file");
  assert.throws(() => renderRunReport(store, 999), (e) => e instanceof InputError && e.field === "<run>");
});

Deno.test("report: --baseline adds a comparison that flags only changes beyond the confidence intervals", async () => {
  using dir = tempDir();
  using store = ResultsStore.open(join(dir.path, "r.db"));
  const base = await recordRun(store);
  const slower = await recordRun(store, 20);
  const html = renderRunReport(store, slower, { baseline: base });
  assert.match(html, /Compared with run 1/);
  assert.match(html, /latency\{mode=a\}<\/td><td>ms<\/td>.*?beyond noise/);
  assert.match(html, /throughput<\/td><td>ops\/s<\/td>.*?single sample/);
  const same = await recordRun(store, 0);
  assert.doesNotMatch(renderRunReport(store, same, { baseline: base }), /beyond noise/);
});

Deno.test("report CLI: writes the file; bad arguments name the field", async () => {
  using dir = tempDir();
  const db = join(dir.path, "r.db");
  {
    using store = ResultsStore.open(db);
    await recordRun(store);
  }
  const lines: string[] = [];
  const out = join(dir.path, "rep.html");
  assert.equal(reportCommand(["1", "--out", out, "--results", db], { out: (t) => lines.push(t) }), 0);
  assert.match(lines[0], /wrote .*rep\.html \(\d+ bytes\)/);
  assert.match(Deno.readTextFileSync(out), /^<!doctype html>/);
  const bad = (args: string[], field: string) =>
    assert.throws(() => reportCommand([...args, "--results", db]), (e) => e instanceof InputError && e.field === field);
  bad([], "<id>");
  bad(["x"], "<id>");
  bad(["1", "--baseline", "0"], "--baseline");
  bad(["1", "--frob"], "--frob");
  bad(["42"], "<run>");
});

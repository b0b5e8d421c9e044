/**
 * `results report <run>`: one self-contained HTML file per run — parameters, versions, host facts, inventory, a step
 * timeline, metric statistics and SVG plots (rendered here, at build time), artifacts (images and text embedded,
 * other files as data links up to a size limit), plan entries and logs. Nothing in it fetches from the network.
 * @module
 */
import { Buffer } from "node:buffer";
import { writeFileSync } from "node:fs";
import { InputError } from "../core/errors.ts";
import { barChart, esc, type Interval, lineChart, timeline } from "../plot/mod.ts";
import { compareRuns } from "../results/compare.ts";
import type { ResultsStore } from "../results/store.ts";
import type { ArtifactRow, RunRow, StepRow } from "../results/types.ts";
import { groupMetrics, type MetricGroup } from "./metric_groups.ts";

/** Options of a report. */
export interface ReportOptions {
  /** Artifacts larger than this are listed, not embedded (default 8 MiB). */
  maxEmbedBytes?: number;
  /** Most log lines shown (default 5,000; the rest are counted). */
  maxLogLines?: number;
  /** Most metric plots (default 24). */
  maxPlots?: number;
  /** Also compare against this baseline run (side-by-side table with 95% CIs). */
  baseline?: number;
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0;font-size:13px} td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:8px;overflow:auto;max-height:420px;font-size:12px}
.status{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:bold}
.ok{background:#009E73}.failed{background:#D55E00}.interrupted{background:#E69F00}.running{background:#56B4E9}
.plots{display:flex;flex-wrap:wrap;gap:12px} .muted{color:#777} .lvl-error{color:#b00}.lvl-warn{color:#a60}
.flag{color:#b00;font-weight:bold}`;

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) =>
    `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ""}>${c}</td>`).join("")}</tr>`
  )
    .join("");
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

function iso(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString();
}

function num(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return "";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e7) ? v.toExponential(3) : String(+v.toPrecision(6));
}

function kvTable(obj: Record<string, unknown>): string {
  const rows = Object.entries(obj).map(([k, v]) => [
    esc(k),
    typeof v === "object" && v !== null ? `<pre>${esc(JSON.stringify(v, null, 2))}</pre>` : esc(String(v)),
  ]);
  return rows.length ? table(["name", "value"], rows) : `<p class="muted">none</p>`;
}

function stepDepths(steps: StepRow[]): Map<number, number> {
  const depth = new Map<number, number>();
  for (const s of steps) depth.set(s.id, s.parent_id === null ? 0 : (depth.get(s.parent_id) ?? 0) + 1);
  return depth;
}

function stepsSection(run: RunRow, steps: StepRow[]): string {
  if (!steps.length) return `<p class="muted">no steps recorded</p>`;
  const depth = stepDepths(steps);
  const intervals: Interval[] = steps.map((s) => ({
    label: s.name,
    start: s.started_at,
    end: s.ended_at ?? run.ended_at ?? null,
    status: s.status,
    depth: depth.get(s.id),
  }));
  const rows = steps.map((s) => [
    esc("\u00a0\u00a0".repeat(depth.get(s.id) ?? 0) + s.name),
    `<span class="status ${esc(s.status)}">${esc(s.status)}</span>`,
    esc(iso(s.started_at)),
    s.ended_at === null ? "" : `${((s.ended_at - s.started_at) / 1000).toFixed(3)} s`,
    esc(s.error ?? ""),
  ]);
  return timeline({ title: "Step timeline", intervals }) +
    table(["step", "status", "started", "duration", "error"], rows, [3]);
}

function metricsSection(groups: MetricGroup[], maxPlots: number): string {
  if (!groups.length) return `<p class="muted">no metrics recorded</p>`;
  const rows = groups.map((g) => [
    esc(g.key),
    esc(g.unit ?? ""),
    String(g.values.length) + (g.warmups.length ? ` <span class="muted">(+${g.warmups.length} warm-up)</span>` : ""),
    num(g.stats?.mean),
    num(g.stats?.stddev),
    g.stats && g.stats.n > 1 ? `${num(g.stats.mean - g.stats.ci95)} … ${num(g.stats.mean + g.stats.ci95)}` : "",
    num(g.values.length ? Math.min(...g.values) : null),
    num(g.values.length ? Math.max(...g.values) : null),
  ]);
  let out = table(["metric", "unit", "samples", "mean", "stddev", "95% CI of mean", "min", "max"], rows, [
    2,
    3,
    4,
    6,
    7,
  ]);
  const plots: string[] = [];
  const byName = new Map<string, MetricGroup[]>();
  for (const g of groups) byName.set(g.name, [...(byName.get(g.name) ?? []), g]);
  for (const [name, gs] of byName) {
    if (plots.length >= maxPlots) break;
    const unit = gs[0].unit ? ` (${gs[0].unit})` : "";
    const multi = gs.filter((g) => g.values.length + g.warmups.length > 1);
    if (multi.length) {
      const series = multi.slice(0, 8).flatMap((g) => {
        const label = g.key === name ? name : g.key.slice(name.length);
        const all = [...g.warmups.map((v, i) => [i, v] as [number, number])];
        const measured = g.values.map((v, i) => [g.warmups.length + i, v] as [number, number]);
        return [
          ...(all.length ? [{ name: `${label} warm-up`, points: all }] : []),
          { name: label, points: measured },
        ];
      });
      plots.push(lineChart({ title: `${name} per sample`, series, xLabel: "sample", yLabel: `${name}${unit}` }));
    }
    if (gs.length > 1 && gs.every((g) => g.stats)) {
      plots.push(barChart({
        title: `${name}: mean ± 95% CI`,
        bars: gs.slice(0, 16).map((g) => ({
          label: g.key.slice(name.length) || name,
          value: g.stats!.mean,
          err: g.stats!.ci95,
        })),
        yLabel: `${name}${unit}`,
      }));
    }
  }
  if (plots.length) out += `<div class="plots">${plots.slice(0, maxPlots).join("")}</div>`;
  return out;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-yaml|yaml|csv))/;

function artifactsSection(store: ResultsStore, runId: number, arts: ArtifactRow[], maxEmbed: number): string {
  if (!arts.length) return `<p class="muted">no artifacts</p>`;
  const parts: string[] = [];
  for (const a of arts) {
    const type = a.media_type ?? "application/octet-stream";
    const head = `<h3>${esc(a.name)} <span class="muted">${esc(type)}, ${a.size} bytes, sha256 ${
      esc(a.sha256.slice(0, 16))
    }…</span></h3>`;
    if (a.size > maxEmbed) {
      parts.push(
        `${head}<p class="muted">not embedded (over ${maxEmbed} bytes): deno task results artifact ${runId} ${
          esc(a.name)
        } --out FILE</p>`,
      );
      continue;
    }
    const data = store.artifactData(a.id) ?? new Uint8Array();
    const b64 = Buffer.from(data).toString("base64");
    if (/^image\/(png|jpeg|gif|webp|svg\+xml)$/.test(type)) {
      parts.push(`${head}<img alt="${esc(a.name)}" style="max-width:100%" src="data:${type};base64,${b64}">`);
    } else if (TEXT_TYPES.test(type) && a.size <= 256 * 1024) {
      parts.push(`${head}<pre>${esc(new TextDecoder().decode(data))}</pre>`);
    } else {
      parts.push(
        `${head}<a download="${esc(a.name)}" href="data:${esc(type)};base64,${b64}">download ${esc(a.name)}</a>`,
      );
    }
  }
  return parts.join("\n");
}

function logsSection(store: ResultsStore, runId: number, max: number): string {
  const logs = store.logs(runId);
  if (!logs.length) return `<p class="muted">no log lines</p>`;
  const shown = logs.slice(-max);
  const rows = shown.map((l) => [
    esc(new Date(l.ts).toISOString().slice(11, 23)),
    `<span class="lvl-${esc(l.level)}">${esc(l.level)}</span>`,
    esc(l.source ?? ""),
    `<span style="white-space:pre-wrap">${esc(l.message)}</span>`,
  ]);
  const note = logs.length > shown.length ? `<p class="muted">last ${shown.length} of ${logs.length} lines</p>` : "";
  return note + table(["time", "level", "source", "message"], rows);
}

function compareSection(store: ResultsStore, baseline: number, runId: number): string {
  if (!store.getRun(baseline)) throw new InputError("--baseline", `a recorded run in ${store.path}`, baseline);
  const cmp = compareRuns(store, [baseline, runId]);
  if (!cmp.rows.length) return `<p class="muted">no metrics to compare</p>`;
  const cell = (c: { mean: number; ci95: number; n: number } | null) =>
    c ? `${num(c.mean)}${c.n > 1 ? ` ± ${num(c.ci95)}` : ""} <span class="muted">(n=${c.n})</span>` : "";
  const rows = cmp.rows.map((r) => [
    esc(r.metric),
    esc(r.unit ?? ""),
    cell(r.cells[0]),
    cell(r.cells[1]),
    r.deltaPct === null ? "" : `${r.deltaPct > 0 ? "+" : ""}${r.deltaPct.toFixed(2)} %`,
    r.significant === null
      ? `<span class="muted">single sample</span>`
      : r.significant
      ? `<span class="flag">beyond noise</span>`
      : "within noise",
  ]);
  return table(["metric", "unit", `run ${baseline} (baseline)`, `run ${runId}`, "change", "verdict"], rows, [4]);
}

/** Renders the report of run `runId` as one HTML document. Throws InputError when the run is unknown. */
export function renderRunReport(store: ResultsStore, runId: number, options: ReportOptions = {}): string {
  const run = store.getRun(runId);
  if (!run) throw new InputError("<run>", `a recorded run in ${store.path}`, runId, { hint: "deno task results list" });
  const steps = store.steps(runId);
  const groups = groupMetrics(store.metrics(runId));
  const facts = store.facts(runId);
  const plan = store.planEntries(runId);
  const dur = run.ended_at === null
    ? "still running or interrupted"
    : `${((run.ended_at - run.started_at) / 1000).toFixed(3)} s`;
  const versions: Record<string, unknown> = {
    "hyperlab commit": run.git_commit ?? "unknown",
    "playbook commit": run.playbook_commit ?? "unknown",
    "playbook path": run.playbook_path ?? "",
    deno: (run.host as Record<string, unknown>).deno ?? "",
    kernel: (run.host as Record<string, unknown>).kernel ?? "",
  };
  const sections = [
    `<h1>Run ${run.id}: ${esc(run.playbook)} <span class="status ${esc(run.status)}">${esc(run.status)}</span></h1>`,
    `<p>started ${esc(iso(run.started_at))}, duration ${esc(dur)}${run.dry_run ? ", <b>dry run</b>" : ""}${
      run.parent_run ? `, retry of run ${run.parent_run}` : ""
    }<br><span class="muted">uuid ${esc(run.uuid)}, host ${esc(run.hostname ?? "")}, pid ${run.pid ?? ""}</span></p>`,
    run.error ? `<h2>Error</h2><pre>${esc(run.error)}</pre>` : "",
    `<h2>Parameters</h2>${kvTable(run.params)}`,
    `<h2>Versions</h2>${kvTable(versions)}`,
    `<h2>Host facts</h2>${kvTable(run.host)}`,
    Object.keys(facts).length ? `<h2>Node facts</h2>${kvTable(facts)}` : "",
    run.inventory ? `<h2>Inventory</h2><pre>${esc(JSON.stringify(run.inventory, null, 2))}</pre>` : "",
    `<h2>Steps</h2>${stepsSection(run, steps)}`,
    `<h2>Metrics</h2>${metricsSection(groups, options.maxPlots ?? 24)}`,
    options.baseline
      ? `<h2>Compared with run ${options.baseline}</h2>${compareSection(store, options.baseline, runId)}`
      : "",
    run.result !== null ? `<h2>Result</h2><pre>${esc(JSON.stringify(run.result, null, 2))}</pre>` : "",
    `<h2>Artifacts</h2>${
      artifactsSection(store, runId, store.artifacts(runId), options.maxEmbedBytes ?? 8 * 1024 * 1024)
    }`,
    plan.length
      ? `<h2>Plan</h2>${
        table(["kind", "target", "action"], plan.map((p) => [esc(p.kind), esc(p.target), esc(p.action)]))
      }`
      : "",
    `<h2>Logs</h2>${logsSection(store, runId, options.maxLogLines ?? 5000)}`,
    `<p class="muted">generated ${esc(new Date().toISOString())} by hyperlab results report from ${
      esc(store.path)
    }</p>`,
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">` +
    `<title>hyperlab run ${run.id} ${esc(run.playbook)}</title><style>${CSS}</style></head><body>` +
    sections.filter(Boolean).join("\n") + `</body></html>\n`;
}

/** Writes the report of `runId` to `outPath`; returns its size in bytes. */
export function writeRunReport(
  store: ResultsStore,
  runId: number,
  outPath: string,
  options: ReportOptions = {},
): number {
  const html = renderRunReport(store, runId, options);
  const bytes = new TextEncoder().encode(html);
  writeFileSync(outPath, bytes);
  return bytes.byteLength;
}

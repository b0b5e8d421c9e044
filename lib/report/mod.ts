/**
 * Reports and repetitions: a self-contained HTML report per run (`results report <run>`), metric grouping with
 * statistics, and `repeat(...)` for playbooks that measure something N times with warm-ups.
 * Run-to-run comparison statistics live in lib/results/compare.ts (`results compare`).
 * @module
 */
export { groupMetrics, type MetricGroup } from "./metric_groups.ts";
export { repeat, type RepeatOptions, type Repetition } from "./repeat.ts";
export { renderRunReport, type ReportOptions, writeRunReport } from "./run_report.ts";
export { REPORT_USAGE, reportCommand } from "./report_cli.ts";

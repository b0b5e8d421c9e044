/**
 * Benchmark output convention (DESIGN.md, section Benchmarks): a readable table, then one JSON line
 * `{"bench", "results", "targets", "pass"}`.
 * @module
 */

/** One target: `value op target` must hold. */
export interface Target {
  value: number;
  target: number;
  op: ">=" | "<=";
}

/** Prints rows as an aligned text table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => typeof c === "number" ? fmtNum(c) : c))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? "").length)));
  console.log(`\n${title}`);
  for (const [i, r] of cells.entries()) {
    console.log(r.map((c, j) => String(c ?? "").padEnd(widths[j])).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

/** Formats a number with sensible precision. */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** Prints the closing JSON line and returns whether every target passed. */
export function emitResult(bench: string, results: Record<string, unknown>, targets: Record<string, Target>): boolean {
  const pass = Object.values(targets).every((t) => t.op === ">=" ? t.value >= t.target : t.value <= t.target);
  console.log(JSON.stringify({ bench, results, targets, pass }));
  return pass;
}

/** Percentile (0..100) of samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx];
}

/** A benchmark module's default export. */
export interface Bench {
  /** Name used by `deno task bench <name>`. */
  name: string;
  /** One line for the list. */
  description: string;
  /** Runs the benchmark, prints its table and JSON line. */
  run(args: string[]): Promise<void>;
}

/**
 * hypersio-trace: throughput and memory of the Trace Constructor. Synthetic logs (SIMULATED: generated in the
 * reference-patched format) of growing size are built into 8-tenant traces; the table shows log lines per second and
 * µs per line against the reference constructor, and the peak RSS of a fresh process that (a) only streams the log
 * through the parser and (b) builds the trace — (a) stays flat as logs grow; (b) grows by the packed 48 B per
 * translation (plus index and nat maps), since rr/rand interleaving needs every tenant's stream before writing.
 *
 * The reference: with `HYPERSIO_REFERENCE` naming a build of `hypersio-perf` (PrincetonUniversity/hypersio
 * `src/sioperf`, its own Makefile; not part of this project), its constructor (`--build`, what its hypersio-trace-gen
 * wrapper runs) builds the same logs in the same run: its CPU time is the baseline and its files must equal ours byte
 * for byte. Without it, the baseline is its cost measured here that way (REFERENCE_US_PER_LINE). The spec's ~25 µs
 * per line (another machine, and perhaps the Python wrapper's start-up on small logs) is shown for comparison.
 *
 * Args: `--sizes a,b,c` translations per device (default 2500,10000,40000), `--reps N` (default 7, median kept).
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { buildTrace, writeSyntheticLog } from "../../lib/hypersio/mod.ts";
import { runReferenceBuild } from "./_hypersio_reference.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

/**
 * CPU µs per log line of the reference constructor on this machine: hypersio-perf --build (g++ 12.2 -O2, its own
 * Makefile, PrincetonUniversity/hypersio at 77edd0bb, unmodified) on this bench's logs, files byte-identical to ours,
 * median of reps: 5.75, 5.64, 5.78 µs per line at 2,500, 10,000 and 40,000 translations per device in one session and
 * 5.75, 5.64, 5.68 in another (2026-11-22; the Python 2 wrapper adds 0.02–0.03 s per run). The lower figure at the
 * largest size is used, so the recorded baseline does not flatter us.
 */
const REFERENCE_US_PER_LINE = 5.68;
/** The spec's figure (another machine). */
const SPEC_US_PER_LINE = 25;
const REFERENCE_BIN = Deno.env.get("HYPERSIO_REFERENCE");
const MiB = 1 << 20;
const cpuSeconds = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU seconds of `fn`. */
async function cpuOf(fn: () => Promise<unknown>): Promise<number> {
  const c0 = cpuSeconds();
  await fn();
  return cpuSeconds() - c0;
}

/** Peak RSS (bytes) of a fresh helper process doing `args`. */
async function peakRss(args: string[]): Promise<number> {
  const helper = new URL("./_hypersio_trace_mem.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", "--quiet", helper, ...args] }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return Number(new TextDecoder().decode(out.stdout).trim());
}

const bench: Bench = {
  name: "hypersio-trace",
  description: "HyperSIO trace constructor: log lines/s vs the reference's (5.7 µs/line here); memory as logs grow",
  async run(args) {
    const { values } = parseArgs({ args, options: { sizes: { type: "string" }, reps: { type: "string" } } });
    const sizes = (values.sizes ?? "2500,10000,40000").split(",").map(Number);
    const reps = Number(values.reps ?? 7);
    const dir = await Deno.makeTempDir({ prefix: "hypersio-trace-bench-" });
    try {
      const rows: (string | number)[][] = [];
      const results: Record<string, unknown> = {};
      let lastSpeedup = 0, firstParse = 0, lastParse = 0, refAllSame = true;
      for (const [i, perDevice] of sizes.entries()) {
        const prefix = `${dir}/s${perDevice}_vm_8`;
        const lines = await writeSyntheticLog(`${prefix}_0.txt`, {
          devices: 8,
          translationsPerDevice: perDevice,
          seed: 3,
        });
        const bytes = (await Deno.stat(`${prefix}_0.txt`)).size;
        // Warm-up (JIT), then the median of `reps`.
        await buildTrace({ logPrefix: prefix, tenants: 8, outDir: dir, name: `w${perDevice}` });
        let translations = 0, files = { iotlb: "", cc: "", slpt: "" };
        const cpus: number[] = [];
        for (let r = 0; r < reps; r++) {
          cpus.push(
            await cpuOf(async () => {
              const b = await buildTrace({ logPrefix: prefix, tenants: 8, outDir: dir, name: `b${perDevice}` });
              translations = b.translations, files = b.files;
            }),
          );
        }
        const best = percentile(cpus, 50);
        const ref = REFERENCE_BIN
          ? await runReferenceBuild(REFERENCE_BIN, [`${prefix}_0.txt`], 8, 8, files)
          : { cpuSeconds: (REFERENCE_US_PER_LINE * lines) / 1e6, identical: null, difference: undefined };
        if (ref.identical === false) refAllSame = false, console.log(`reference differs: ${ref.difference}`);
        const refUsPerLine = (ref.cpuSeconds * 1e6) / lines;
        const parseRss = await peakRss(["parse", `${prefix}_0.txt`]);
        const buildRss = await peakRss(["build", prefix, dir]);
        const usPerLine = (best * 1e6) / lines;
        const speedup = refUsPerLine / usPerLine;
        if (i === 0) firstParse = parseRss;
        lastParse = parseRss;
        lastSpeedup = speedup;
        rows.push([
          lines,
          (bytes / MiB).toFixed(1),
          translations,
          lines / best,
          usPerLine,
          refUsPerLine,
          speedup,
          ref.identical === null ? "-" : ref.identical ? "yes" : "NO",
          SPEC_US_PER_LINE / usPerLine,
          (parseRss / MiB).toFixed(1),
          (buildRss / MiB).toFixed(1),
        ]);
        results[`lines_${lines}`] = {
          log_bytes: bytes,
          translations,
          lines_per_cpu_s: lines / best,
          us_per_line: usPerLine,
          reference_us_per_line: refUsPerLine,
          reference_measured: REFERENCE_BIN !== undefined,
          reference_identical: ref.identical,
          speedup_vs_reference: speedup,
          speedup_vs_spec_25us: SPEC_US_PER_LINE / usPerLine,
          parse_process_peak_rss_bytes: parseRss,
          build_process_peak_rss_bytes: buildRss,
        };
      }
      printTable(
        `HyperSIO trace constructor (8 tenants, rr; CPU time, median of reps; peak RSS of a fresh process; reference: ${
          REFERENCE_BIN ? `measured side by side (${REFERENCE_BIN})` : `recorded ${REFERENCE_US_PER_LINE} µs/line here`
        })`,
        [
          "log lines",
          "log MiB",
          "translations",
          "lines/CPU-s",
          "µs/line",
          "reference µs/line",
          "speedup ×",
          "ref. files = ours",
          "× vs spec's 25 µs",
          "parse-only peak RSS MiB",
          "build peak RSS MiB",
        ],
        rows,
      );
      emitResult("hypersio-trace", results, {
        speedup_vs_reference_largest: { value: lastSpeedup, target: 20, op: ">=" },
        // Flat: a 16× larger log may not raise the streaming parser's peak RSS by more than half (what remains is
        // V8 growing its young generation, not the log being held).
        parse_peak_rss_ratio_largest_vs_smallest: { value: lastParse / firstParse, target: 1.5, op: "<=" },
        ...(REFERENCE_BIN ? { identical_to_reference: { value: refAllSame ? 1 : 0, target: 1, op: ">=" } } : {}),
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
};

export default bench;

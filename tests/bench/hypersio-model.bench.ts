/**
 * hypersio-model: speed of the HyperSIO performance model. For 1, 4, 16 and 64 tenants (synthetic logs, SIMULATED:
 * generated in the reference-patched format, not collected from a guest) it runs the event-driven core and the
 * tick-every-ns mode on the same trace, side by side, checks the results are identical, and reports simulated ns per
 * CPU-second and translations per second.
 *
 * What the target compares against: the issue asks for the reference's results ≥ 10× faster than the reference,
 * which ticks once per simulated ns. When `HYPERSIO_REFERENCE` names a build of the reference (`hypersio-perf` from
 * PrincetonUniversity/hypersio `src/sioperf`, made with its own Makefile; it is not part of this project and not
 * downloaded by it), the reference runs on the same traces in the same run: its CPU time is the baseline and its
 * printed results must equal ours. Without it, the baseline is REFERENCE_NS_PER_SIM_NS, the reference's cost measured
 * on this machine that way (see the constant). Event CPU is the median of three runs after a warm-up. The in-run tick
 * mode is printed too (identity check, its own cost per simulated ns), but it is not the reference's cost: it shares
 * the event core's optimised stages. The spec's case, 64 tenants × 5000 packets (15–20 CPU-s per the spec, on
 * another machine), is also run and compared with the same baseline.
 *
 * Args: `--packets N` per tenant for the side-by-side rows (default 1000), `--spec-packets N` (default 5000, 0 = skip).
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { buildTrace, type ModelResult, runModel, writeSyntheticLog } from "../../lib/hypersio/mod.ts";
import { runReference } from "./_hypersio_reference.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

/**
 * CPU ns per simulated ns of the reference on this machine: hypersio-perf built with its own Makefile (g++ 12.2,
 * -O2) from PrincetonUniversity/hypersio `src/sioperf` at 77edd0bb, unmodified, run on this benchmark's traces with
 * our default configuration, results identical to ours: 25.6 at 64 tenants × 1000 packets and 25.3 at × 5000
 * (median of 3 each, 2026-11-22). The lower figure is used. (An earlier figure, 13, came from a partial transcription
 * of the reference's model code, which does less per simulated ns than the reference itself.)
 */
const REFERENCE_NS_PER_SIM_NS = 25.3;
const REFERENCE_BIN = Deno.env.get("HYPERSIO_REFERENCE");

const cpuSeconds = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1e6;
};

function timed(path: string, mode: "event" | "tick"): { r: ModelResult; cpu: number } {
  const c0 = cpuSeconds();
  const r = runModel(path, {}, { mode });
  return { r, cpu: cpuSeconds() - c0 };
}

/** Median CPU of `n` runs (the results of the last). */
function timedMedian(path: string, mode: "event" | "tick", n: number): { r: ModelResult; cpu: number } {
  const runs = Array.from({ length: n }, () => timed(path, mode));
  return { r: runs[n - 1].r, cpu: percentile(runs.map((x) => x.cpu), 50) };
}

/**
 * The reference's CPU seconds for a trace: measured side by side when its binary is given (to 10 ms: shell `times`
 * counts clock ticks, so runs under 0.05 s are not compared), else recorded.
 */
async function referenceCpu(
  path: string,
  tenants: number,
  ours: ModelResult,
): Promise<{ cpu: number; measured: boolean; identical: boolean | null }> {
  if (!REFERENCE_BIN) return { cpu: ours.elapsedNs * REFERENCE_NS_PER_SIM_NS / 1e9, measured: false, identical: null };
  const run = await runReference(REFERENCE_BIN, path, tenants, ours);
  if (!run.identical) console.log(`reference differs at ${tenants} tenants: ${run.difference}`);
  return { cpu: run.cpuSeconds, measured: true, identical: run.identical };
}

const same = (a: ModelResult, b: ModelResult) =>
  JSON.stringify({ ...a, cyclesRun: 0, options: { ...a.options, mode: "" } }) ===
    JSON.stringify({ ...b, cyclesRun: 0, options: { ...b.options, mode: "" } });

async function trace(dir: string, tenants: number, packets: number): Promise<string> {
  const perLog = Math.min(8, tenants);
  const prefix = `${dir}/bench_p${packets}_vm_${perLog}`;
  for (let k = 0; k * perLog < tenants; k++) {
    const path = `${prefix}_${k}.txt`;
    if (!(await Deno.stat(path).then(() => true, () => false))) {
      await writeSyntheticLog(path, {
        devices: perLog,
        translationsPerDevice: 3 * packets,
        seed: k + 1,
        pagesPerDevice: 48,
      });
    }
  }
  const r = await buildTrace({ logPrefix: prefix, tenants, outDir: dir, name: `bench_p${packets}` });
  return r.files.iotlb;
}

const bench: Bench = {
  name: "hypersio-model",
  description: "HyperSIO model: event-driven vs the reference's per-ns cost (and tick mode), 1/4/16/64 tenants",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { packets: { type: "string" }, "spec-packets": { type: "string" } },
    });
    const packets = Number(values.packets ?? 1000);
    const specPackets = Number(values["spec-packets"] ?? 5000);
    const dir = await Deno.makeTempDir({ prefix: "hypersio-bench-" });
    try {
      const rows: (string | number)[][] = [];
      const results: Record<string, unknown> = {};
      let allSame = true, refAllSame = true;
      let speedup64 = 0, vsRef64 = 0, tickNs64 = 0;
      const source = REFERENCE_BIN
        ? `measured side by side (${REFERENCE_BIN})`
        : `recorded: ${REFERENCE_NS_PER_SIM_NS} CPU-ns per simulated ns on this machine`;
      for (const tenants of [1, 4, 16, 64]) {
        const path = await trace(dir, tenants, packets);
        timed(path, "event"); // warm the JIT on this trace, both modes
        timed(path, "tick");
        const ev = timedMedian(path, "event", 3);
        const tk = timed(path, "tick");
        const eq = same(ev.r, tk.r);
        allSame &&= eq;
        const simNs = ev.r.elapsedNs;
        const speedup = tk.cpu / ev.cpu;
        const ref = await referenceCpu(path, tenants, ev.r);
        if (ref.identical === false) refAllSame = false;
        const vsRef = ref.cpu / ev.cpu;
        if (tenants === 64) speedup64 = speedup, vsRef64 = vsRef, tickNs64 = (tk.cpu * 1e9) / simNs;
        rows.push([
          tenants,
          ev.r.translations,
          simNs,
          ev.cpu,
          tk.cpu,
          ref.cpu,
          simNs / ev.cpu / 1e6,
          (ev.cpu * 1e9) / simNs,
          (tk.cpu * 1e9) / simNs,
          ref.measured && ref.cpu < 0.05 ? "(too short)" : (ref.cpu * 1e9) / simNs,
          ev.r.translations / ev.cpu,
          speedup,
          ref.measured && ref.cpu < 0.05 ? "-" : vsRef,
          eq ? "yes" : "NO",
          ref.identical === null ? "-" : ref.identical ? "yes" : "NO",
        ]);
        results[`tenants_${tenants}`] = {
          translations: ev.r.translations,
          simulated_ns: simNs,
          event_cpu_s: ev.cpu,
          tick_cpu_s: tk.cpu,
          reference_cpu_s: ref.cpu,
          reference_measured: ref.measured,
          reference_identical: ref.identical,
          event_sim_ns_per_cpu_s: simNs / ev.cpu,
          tick_sim_ns_per_cpu_s: simNs / tk.cpu,
          event_translations_per_s: ev.r.translations / ev.cpu,
          tick_translations_per_s: ev.r.translations / tk.cpu,
          speedup_vs_tick: speedup,
          event_cpu_ns_per_sim_ns: (ev.cpu * 1e9) / simNs,
          tick_cpu_ns_per_sim_ns: (tk.cpu * 1e9) / simNs,
          reference_cpu_ns_per_sim_ns: (ref.cpu * 1e9) / simNs,
          speedup_vs_reference: vsRef,
          identical: eq,
          utilization: ev.r.utilization,
        };
      }
      printTable(
        `HyperSIO model, ${packets} packets per tenant (CPU time; event = median of 3; reference: ${source})`,
        [
          "tenants",
          "translations",
          "sim ns",
          "event CPU s",
          "tick CPU s",
          "reference CPU s",
          "event Msim-ns/CPU-s",
          "event CPU-ns/sim-ns",
          "tick CPU-ns/sim-ns",
          "ref. CPU-ns/sim-ns",
          "event transl/s",
          "event/tick ×",
          "event vs ref. ×",
          "event = tick",
          "ref. = ours",
        ],
        rows,
      );
      console.log(
        `note: tick mode costs ${tickNs64.toFixed(1)} ns per simulated ns at 64 tenants; it shares the event core's ` +
          `optimised stages, so it checks identity but is not the reference's cost; event/tick at 64 tenants = ` +
          `${speedup64.toFixed(2)}×.`,
      );
      let specSpeedup = NaN;
      if (specPackets > 0) {
        const path = await trace(dir, 64, specPackets);
        timed(path, "event");
        const ev = timedMedian(path, "event", 3);
        const ref = await referenceCpu(path, 64, ev.r);
        if (ref.identical === false) refAllSame = false;
        const refLow = 15, refHigh = 20; // CPU-s, spec: reference on 64 tenants × 5000 packets, another machine
        specSpeedup = ref.cpu / ev.cpu;
        printTable(
          `Spec case: 64 tenants × ${specPackets} packets, event-driven vs the reference (${source})`,
          [
            "translations",
            "sim ns",
            "event CPU s",
            "reference CPU s",
            "ref. = ours",
            "speedup",
            "spec's reference CPU s",
            "speedup vs spec's 15 s",
          ],
          [[
            ev.r.translations,
            ev.r.elapsedNs,
            ev.cpu,
            ref.cpu,
            ref.identical === null ? "-" : ref.identical ? "yes" : "NO",
            specSpeedup,
            `${refLow}–${refHigh}`,
            refLow / ev.cpu,
          ]],
        );
        results.spec_case = {
          packets: specPackets,
          translations: ev.r.translations,
          simulated_ns: ev.r.elapsedNs,
          event_cpu_s: ev.cpu,
          reference_cpu_s: ref.cpu,
          reference_measured: ref.measured,
          reference_identical: ref.identical,
          reference_cpu_s_spec: [refLow, refHigh],
          speedup_vs_reference: specSpeedup,
          speedup_vs_spec_15s: refLow / ev.cpu,
        };
      }
      results.identical_all = allSame;
      results.reference = source;
      results.reference_cpu_ns_per_sim_ns_recorded = REFERENCE_NS_PER_SIM_NS;
      results.speedup_vs_tick_64_tenants = speedup64;
      emitResult("hypersio-model", results, {
        speedup_vs_reference_64_tenants: { value: vsRef64, target: 10, op: ">=" },
        ...(specPackets > 0 ? { speedup_vs_reference_spec_case: { value: specSpeedup, target: 10, op: ">=" } } : {}),
        identical_results: { value: allSame ? 1 : 0, target: 1, op: ">=" },
        ...(REFERENCE_BIN ? { identical_to_reference: { value: refAllSame ? 1 : 0, target: 1, op: ">=" } } : {}),
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
};

export default bench;

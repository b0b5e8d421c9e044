/**
 * hypersio-model: speed of the HyperSIO performance model. For 1, 4, 16 and 64 tenants (synthetic logs, SIMULATED:
 * generated in the reference-patched format, not collected from a guest) it runs the event-driven core and the
 * tick-every-ns mode on the same trace, side by side, checks the results are identical, and reports simulated ns per
 * CPU-second and translations per second.
 *
 * What the target compares against: the issue asks for the reference's results ≥ 10× faster than the reference,
 * which ticks once per simulated ns. Its cost per simulated ns is REFERENCE_NS_PER_SIM_NS = 13 ns of CPU here (a
 * g++ -O2 build — the reference's own Makefile flags — of its model code, transcribed for a one-off check, not part
 * of the project; the spec's 40–60 ns is from another machine), so the target is event CPU ≤ simulated ns × 13 ns / 10
 * at 64 tenants. The in-run tick mode is printed too (identity check, its own cost per simulated ns, event/tick), but
 * it is not the reference's cost: it shares the event core's optimised stages and does less per idle ns than the
 * reference's RunCycle (four PickReady calls building vectors every ns). The spec's own case, 64 tenants × 5000
 * packets (reference: 15–20 CPU-s per the spec), is also run in event mode and compared with both figures.
 *
 * Args: `--packets N` per tenant for the side-by-side rows (default 1000), `--spec-packets N` (default 5000, 0 = skip).
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { buildTrace, type ModelResult, runModel, writeSyntheticLog } from "../../lib/hypersio/mod.ts";
import { type Bench, emitResult, printTable } from "./_report.ts";

/** CPU ns per simulated ns of the reference (g++ -O2 build of its model code, measured on this machine). */
const REFERENCE_NS_PER_SIM_NS = 13;

const cpuSeconds = () => {
  const u = cpuUsage();
  return (u.user + u.system) / 1e6;
};

function timed(path: string, mode: "event" | "tick"): { r: ModelResult; cpu: number } {
  const c0 = cpuSeconds();
  const r = runModel(path, {}, { mode });
  return { r, cpu: cpuSeconds() - c0 };
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
      let allSame = true;
      let speedup64 = 0, vsRef64 = 0, tickNs64 = 0;
      for (const tenants of [1, 4, 16, 64]) {
        const path = await trace(dir, tenants, packets);
        timed(path, "event"); // warm the JIT on this trace, both modes
        timed(path, "tick");
        const ev = timed(path, "event");
        const tk = timed(path, "tick");
        const eq = same(ev.r, tk.r);
        allSame &&= eq;
        const simNs = ev.r.elapsedNs;
        const speedup = tk.cpu / ev.cpu;
        const refCpu = (simNs * REFERENCE_NS_PER_SIM_NS) / 1e9;
        const vsRef = refCpu / ev.cpu;
        if (tenants === 64) speedup64 = speedup, vsRef64 = vsRef, tickNs64 = (tk.cpu * 1e9) / simNs;
        rows.push([
          tenants,
          ev.r.translations,
          simNs,
          ev.cpu,
          tk.cpu,
          simNs / ev.cpu / 1e6,
          simNs / tk.cpu / 1e6,
          (ev.cpu * 1e9) / simNs,
          (tk.cpu * 1e9) / simNs,
          ev.r.translations / ev.cpu,
          speedup,
          vsRef,
          eq ? "yes" : "NO",
        ]);
        results[`tenants_${tenants}`] = {
          translations: ev.r.translations,
          simulated_ns: simNs,
          event_cpu_s: ev.cpu,
          tick_cpu_s: tk.cpu,
          event_sim_ns_per_cpu_s: simNs / ev.cpu,
          tick_sim_ns_per_cpu_s: simNs / tk.cpu,
          event_translations_per_s: ev.r.translations / ev.cpu,
          tick_translations_per_s: ev.r.translations / tk.cpu,
          speedup_vs_tick: speedup,
          event_cpu_ns_per_sim_ns: (ev.cpu * 1e9) / simNs,
          tick_cpu_ns_per_sim_ns: (tk.cpu * 1e9) / simNs,
          reference_cpu_s_at_13ns: refCpu,
          speedup_vs_reference: vsRef,
          identical: eq,
          utilization: ev.r.utilization,
        };
      }
      printTable(
        `HyperSIO model, ${packets} packets per tenant (CPU time; tick mode = per-ns loop like the reference)`,
        [
          "tenants",
          "translations",
          "sim ns",
          "event CPU s",
          "tick CPU s",
          "event Msim-ns/CPU-s",
          "tick Msim-ns/CPU-s",
          "event CPU-ns/sim-ns",
          "tick CPU-ns/sim-ns",
          "event transl/s",
          "event/tick ×",
          `vs ref. (${REFERENCE_NS_PER_SIM_NS} ns/sim-ns) ×`,
          "identical",
        ],
        rows,
      );
      const rel = tickNs64 < REFERENCE_NS_PER_SIM_NS ? "less than" : "not less than";
      console.log(
        `note: target = event vs the reference's cost per simulated ns, ${REFERENCE_NS_PER_SIM_NS} ns CPU (its g++ -O2 ` +
          `build, measured on this machine; spec: 40–60 ns elsewhere). The tick mode here costs ` +
          `${tickNs64.toFixed(1)} ns per simulated ns at 64 tenants, ${rel} the reference: it shares the event ` +
          `core's optimised stages and does less per idle ns than the reference's RunCycle (four PickReady calls ` +
          `building vectors every ns), so it checks identity but is not the reference's cost; event/tick at 64 ` +
          `tenants = ${speedup64.toFixed(2)}×.`,
      );
      let specSpeedup = NaN;
      if (specPackets > 0) {
        const path = await trace(dir, 64, specPackets);
        timed(path, "event");
        const ev = timed(path, "event");
        const refLow = 15, refHigh = 20; // CPU-s, spec: reference on 64 tenants × 5000 packets
        const refAt40 = (ev.r.elapsedNs * 40) / 1e9; // the reference at 40 ns CPU per simulated ns
        const refHere = (ev.r.elapsedNs * REFERENCE_NS_PER_SIM_NS) / 1e9; // … at its cost on this machine
        specSpeedup = refLow / ev.cpu;
        printTable(
          `Spec case: 64 tenants × ${specPackets} packets, event-driven vs the reference's stated cost`,
          [
            "translations",
            "sim ns",
            "event CPU s",
            "reference CPU s (spec)",
            "ref. at 40 ns/sim-ns",
            `ref. at ${REFERENCE_NS_PER_SIM_NS} ns/sim-ns (here)`,
            "speedup (vs 15 s)",
            `speedup (vs ${REFERENCE_NS_PER_SIM_NS} ns/sim-ns)`,
          ],
          [[
            ev.r.translations,
            ev.r.elapsedNs,
            ev.cpu,
            `${refLow}–${refHigh}`,
            refAt40,
            refHere,
            specSpeedup,
            refHere / ev.cpu,
          ]],
        );
        results.spec_case = {
          packets: specPackets,
          translations: ev.r.translations,
          simulated_ns: ev.r.elapsedNs,
          event_cpu_s: ev.cpu,
          reference_cpu_s_spec: [refLow, refHigh],
          reference_cpu_s_at_40ns: refAt40,
          reference_cpu_s_at_13ns: refHere,
          speedup_vs_reference: specSpeedup,
          speedup_vs_reference_at_13ns: refHere / ev.cpu,
        };
      }
      results.identical_all = allSame;
      results.reference_cpu_ns_per_sim_ns = REFERENCE_NS_PER_SIM_NS;
      results.speedup_vs_tick_64_tenants = speedup64;
      emitResult("hypersio-model", results, {
        speedup_vs_reference_64_tenants: { value: vsRef64, target: 10, op: ">=" },
        ...(specPackets > 0 ? { speedup_vs_reference_spec_case: { value: specSpeedup, target: 10, op: ">=" } } : {}),
        identical_results: { value: allSame ? 1 : 0, target: 1, op: ">=" },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
};

export default bench;

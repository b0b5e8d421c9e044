/**
 * Runs the HyperSIO reference (`hypersio-perf`, built from PrincetonUniversity/hypersio `src/sioperf` with its own
 * Makefile; not part of this project and not fetched by it) side by side with ours: its model on one of our traces
 * (CPU time, and whether it printed our results), and its trace constructor (`--build`, what its hypersio-trace-gen
 * wrapper runs) on our logs (CPU time, and whether its files equal ours byte for byte). The hypersio benchmarks use
 * it when `HYPERSIO_REFERENCE` names the binary, instead of a recorded figure.
 * @module
 */
import { basename, dirname } from "node:path";
import { defaultConfig, formatCfgText, formatReport, type ModelResult } from "../../lib/hypersio/mod.ts";

/** Runs `bin args…` with HYPERSIO_HOME=`home`, output to `out`; returns its CPU seconds (shell `times`, 10 ms). */
async function timedReference(bin: string, args: string[], home: string, out: string): Promise<number> {
  // `times` after the run prints the shell's children's CPU time: the reference's own
  const script = `"$0" "$@" > "${out}" 2>&1; s=$?; times; exit $s`;
  const r = await new Deno.Command("sh", {
    args: ["-c", script, bin, ...args],
    env: { HYPERSIO_HOME: home },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`reference exited with ${r.code}: ${(await Deno.readTextFile(out)).slice(-400)}`);
  const t = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(new TextDecoder().decode(r.stdout));
  if (!t) throw new Error("no CPU time from `times`");
  return Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]);
}

/** One reference run. */
export interface ReferenceRun {
  /** User + system CPU seconds of the reference process. */
  cpuSeconds: number;
  /** Whether its result section has exactly our result lines (flows in any order). */
  identical: boolean;
  /** A result line one side printed and the other did not, when not identical. */
  difference?: string;
}

/** Result lines from "Time elapsed" on, without blank lines and our extra Utilization line, as a set. */
function resultLines(text: string): Set<string> {
  const lines = text.split("\n");
  const from = lines.findIndex((l) => l.startsWith("Time elapsed"));
  if (from < 0) return new Set();
  return new Set(lines.slice(from).filter((l) => l.trim() !== "" && !l.startsWith("Utilization:")));
}

/**
 * Runs `bin` on the trace whose IOTLB file is `iotlbPath` (the reference finds `<prefix>_iotlb_trace.bin`,
 * `_cc_data.bin` and `_slpt_data.bin` under `$HYPERSIO_HOME/build/hypersio_traces`), default configuration.
 */
export async function runReference(
  bin: string,
  iotlbPath: string,
  tenants: number,
  ours: ModelResult,
): Promise<ReferenceRun> {
  const suffix = "_iotlb_trace.bin";
  const name = basename(iotlbPath);
  if (!name.endsWith(suffix)) throw new Error(`not an IOTLB trace file name: ${name}`);
  const home = await Deno.makeTempDir({ prefix: "hypersio-ref-home-" });
  try {
    await Deno.mkdir(`${home}/build`);
    await Deno.symlink(dirname(iotlbPath), `${home}/build/hypersio_traces`);
    await Deno.writeTextFile(`${home}/model.cfg`, formatCfgText(defaultConfig()));
    const o = ours.options;
    const args = [
      "--run",
      "--config",
      `${home}/model.cfg`,
      "--prefix",
      name.slice(0, -suffix.length),
      "--tqueue",
      String(o.tqueue),
      "--tenantnum",
      String(tenants),
      "--iotlbrepl",
      o.iotlbRepl,
      "--linkbwgbps",
      String(o.linkGbps),
    ];
    const cpuSeconds = await timedReference(bin, args, home, `${home}/out.txt`);
    const out = await Deno.readTextFile(`${home}/out.txt`);
    const a = resultLines(formatReport(ours)), b = resultLines(out);
    const difference = [...a].find((l) => !b.has(l)) ?? [...b].find((l) => !a.has(l));
    return { cpuSeconds, identical: a.size > 0 && difference === undefined, difference };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** One reference trace construction. */
export interface ReferenceBuild {
  /** User + system CPU seconds of the reference process. */
  cpuSeconds: number;
  /** Whether its three files equal ours byte for byte. */
  identical: boolean;
  /** The first file that differs, when not identical. */
  difference?: string;
}

/**
 * Runs the reference constructor on `logs` (our `<prefix>_<k>.txt` files, `devicesPerLog` devices each) for
 * `tenants` tenants in rr order with 3 consecutive translations (our defaults), and compares its files with `ours`.
 */
export async function runReferenceBuild(
  bin: string,
  logs: string[],
  tenants: number,
  devicesPerLog: number,
  ours: { iotlb: string; cc: string; slpt: string },
): Promise<ReferenceBuild> {
  const home = await Deno.makeTempDir({ prefix: "hypersio-ref-build-" });
  try {
    await Deno.mkdir(`${home}/build/qemu_logs`, { recursive: true });
    await Deno.mkdir(`${home}/build/hypersio_traces`);
    for (const [k, log] of logs.entries()) await Deno.symlink(log, `${home}/build/qemu_logs/log_${k}.txt`);
    const args = [
      "--lbase",
      "log",
      "--tenantnum",
      String(tenants),
      "--maxdevperlog",
      String(devicesPerLog),
      "--ltype",
      "txt",
      "--build",
      "--order",
      "rr",
      "--consec",
      "3",
      "--tname",
      "ref",
    ];
    const cpuSeconds = await timedReference(bin, args, home, `${home}/out.txt`);
    const base = `${home}/build/hypersio_traces/ref_tnt_${tenants}_rr3`;
    const pairs = [["iotlb", `${base}_iotlb_trace.bin`], ["cc", `${base}_cc_data.bin`], [
      "slpt",
      `${base}_slpt_data.bin`,
    ]];
    let difference: string | undefined;
    for (const [kind, theirs] of pairs) {
      const a = await Deno.readFile(ours[kind as "iotlb" | "cc" | "slpt"]);
      const b = await Deno.readFile(theirs).catch(() => new Uint8Array(0));
      if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
        difference = `${kind}: ${a.length} vs ${b.length} bytes`;
        break;
      }
    }
    return { cpuSeconds, identical: difference === undefined, difference };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

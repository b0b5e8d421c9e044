/**
 * Runs the HyperSIO reference model (`hypersio-perf`, built from PrincetonUniversity/hypersio `src/sioperf` with its
 * own Makefile; not part of this project and not fetched by it) on one of our traces, with the configuration our
 * model ran, and returns its CPU time and whether it printed our results. The hypersio-model benchmark uses it when
 * `HYPERSIO_REFERENCE` names the binary, to measure the reference side by side instead of using a recorded figure.
 * @module
 */
import { basename, dirname } from "node:path";
import { defaultConfig, formatCfgText, formatReport, type ModelResult } from "../../lib/hypersio/mod.ts";

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
    // `times` after the run prints the shell's children's CPU time: the reference's own
    const script = `"$0" "$@" > "${home}/out.txt" 2>&1; s=$?; times; exit $s`;
    const r = await new Deno.Command("sh", {
      args: ["-c", script, bin, ...args],
      env: { HYPERSIO_HOME: home },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = await Deno.readTextFile(`${home}/out.txt`);
    if (!r.success) throw new Error(`reference exited with ${r.code}: ${out.slice(-400)}`);
    const t = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(new TextDecoder().decode(r.stdout));
    if (!t) throw new Error("no CPU time from `times`");
    const cpuSeconds = Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]);
    const a = resultLines(formatReport(ours)), b = resultLines(out);
    const difference = [...a].find((l) => !b.has(l)) ?? [...b].find((l) => !a.has(l));
    return { cpuSeconds, identical: a.size > 0 && difference === undefined, difference };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

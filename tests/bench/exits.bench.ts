/**
 * exits: port-I/O exits per second handled in TypeScript through FFI vs the same loop written in C in the shim
 * (target: TypeScript ≥ 0.5× C).
 *
 * Guest ffi/guests/loop.c writes N times to the tick port. "TS sync" is MicroVm.run({ sync: true }): each exit is a
 * sync FFI KVM_RUN, decoded into a VcpuExit object and dispatched by the micro-VMM's port handler — the path the
 * target is about. "C" is hl_vcpu_count_out_exits: KVM_RUN in a C loop counting the same exits. "TS nonblocking"
 * (KVM_RUN on the FFI thread pool, MicroVm.run() default) is shown for reference. Rounds alternate; medians.
 *
 * `deno task bench exits [--exits N] [--rounds R]` (default 100000 exits, 3 rounds).
 */
import { parseArgs } from "node:util";
import { MicroVm, PORT } from "../../lib/kvm/mod.ts";
import { type Bench, emitResult, percentile, printTable } from "./_report.ts";

async function tsRate(n: number, sync: boolean): Promise<number> {
  using m = MicroVm.boot({ guest: "loop", params: [n] });
  const t0 = performance.now();
  const r = await m.run({ sync, timeoutMs: 120_000 });
  const s = (performance.now() - t0) / 1000;
  if (r.reason !== "halt" || m.ticks !== n) throw new Error(`TS loop: ${r.reason}, ${m.ticks}/${n} ticks`);
  return n / s;
}

async function cRate(n: number): Promise<number> {
  using m = MicroVm.boot({ guest: "loop", params: [n] });
  await m.run({ sync: true, maxExits: 2 }); // the guest's parameter request (OUT arg, IN param)
  const t0 = performance.now();
  const { count, exit } = m.vcpu.countOutExitsInC(PORT.TICK, n);
  const s = (performance.now() - t0) / 1000;
  if (count !== n || exit.kind !== "io" || exit.port !== PORT.TICK) throw new Error(`C loop: ${count}/${n}`);
  return n / s;
}

const bench: Bench = {
  name: "exits",
  description: "port-I/O exits/s handled in TypeScript (sync FFI KVM_RUN) vs a C loop in the shim (target ≥ 0.5×)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { exits: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" } },
    });
    const n = Math.max(1000, Number(values.exits) || 100000);
    const rounds = Math.max(1, Number(values.rounds) || 3);
    const ts: number[] = [], c: number[] = [], nb: number[] = [];
    for (let i = 0; i < rounds; i++) {
      c.push(await cRate(n));
      ts.push(await tsRate(n, true));
      nb.push(await tsRate(Math.max(1000, Math.floor(n / 10)), false));
    }
    const [tsM, cM, nbM] = [ts, c, nb].map((x) => percentile(x, 50));
    printTable(`port-I/O exits per second (${n} exits per round, ${rounds} rounds, medians)`, [
      "loop",
      "exits/s",
      "µs/exit",
      "vs C",
    ], [
      ["C in the shim", cM, 1e6 / cM, 1],
      ["TypeScript, sync FFI KVM_RUN", tsM, 1e6 / tsM, tsM / cM],
      ["TypeScript, nonblocking KVM_RUN", nbM, 1e6 / nbM, nbM / cM],
    ]);
    emitResult("exits", {
      exits_per_round: n,
      rounds,
      c_exits_per_s: cM,
      ts_sync_exits_per_s: tsM,
      ts_nonblocking_exits_per_s: nbM,
      ts_sync_vs_c: tsM / cM,
      ts_nonblocking_vs_c: nbM / cM,
      ts_path: "MicroVm.run({ sync: true }) — sync FFI KVM_RUN",
    }, { ts_vs_c: { value: tsM / cM, target: 0.5, op: ">=" } });
  },
};

export default bench;

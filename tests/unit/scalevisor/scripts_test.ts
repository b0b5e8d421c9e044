/** Scalevisor's guest and node scripts (pure) and the parsing of what a guest run printed. */
import assert from "node:assert/strict";
import { HyperlabError } from "../../../lib/core/errors.ts";
import { probeScript } from "../../../playbooks/scalevisor/fault_drill.ts";
import { parseRunOutput, PEAK_FILE, runScript, setupScript } from "../../../playbooks/scalevisor/guest_script.ts";
import { serverStartScript, serverStopScript } from "../../../playbooks/scalevisor/servers.ts";
import { medians, type SweepRun } from "../../../playbooks/scalevisor/sweep.ts";

const size = { points: 1000, dims: 8, k: 4, iterations: 3 };
const KM = '{"points":1000,"dims":8,"k":4,"iterations":3,"working_set_bytes":32000,"seconds":1.500000,' +
  '"inertia":12.000,"checksum":"00112233aabbccdd"}';

function output(o: { rc?: number; events?: string; max?: string; out?: string } = {}): string {
  return [
    `memory_max=${o.max ?? "16904192"}`,
    "memory_high=max",
    "vmstat0=pswpin 100 pswpout 50 ",
    "vmstat1=pswpin 350 pswpout 180 ",
    `rc=${o.rc ?? 0}`,
    "t0=10.25",
    "t1=14.38",
    "peak=16904192",
    `events=${o.events ?? "max 12 oom 0 oom_kill 0 "}`,
    "err=",
    `out=${o.out ?? KM}`,
  ].join("\n");
}

Deno.test("scalevisor guest run: output parsed into wall-clock, swap counters, cgroup numbers and kmeans' result", () => {
  const m = parseRunOutput(output());
  assert.deepEqual(m, {
    outcome: "ok",
    memoryMax: 16904192,
    memoryHigh: null,
    wallSeconds: 4.13,
    peakBytes: 16904192,
    pswpout: 130,
    pswpin: 250,
    events: { max: 12, oom: 0, oom_kill: 0 },
    kmeans: {
      points: 1000,
      dims: 8,
      k: 4,
      iterations: 3,
      working_set_bytes: 32000,
      seconds: 1.5,
      inertia: 12,
      checksum: "00112233aabbccdd",
    },
  });
  assert.equal(parseRunOutput(output({ max: "max" })).memoryMax, null);
});

Deno.test("scalevisor guest run: an OOM kill is a recorded outcome; other failures are errors, never results", () => {
  const oom = parseRunOutput(output({ rc: 137, events: "max 99 oom 1 oom_kill 1 ", out: "" }));
  assert.equal(oom.outcome, "oom-killed");
  assert.equal(oom.kmeans, null);
  assert.equal(oom.pswpout, 130);
  assert.throws(
    () => parseRunOutput(output({ rc: 137, events: "max 0 oom 0 oom_kill 0 ", out: "" })),
    (e) => e instanceof HyperlabError && /kmeans exited with 137/.test(e.message),
    "a SIGKILL that was not the OOM killer is an error",
  );
  assert.throws(
    () => parseRunOutput(output({ rc: 2, out: "" })),
    (e) => e instanceof HyperlabError && /kmeans exited with 2/.test(e.message),
  );
  assert.throws(
    () => parseRunOutput("", "swapon: /dev/vda: Invalid argument", 4),
    (e) => e instanceof HyperlabError && /exit 4/.test(e.message) && /swapon: \/dev\/vda/.test(e.message),
  );
  assert.throws(() => parseRunOutput(output({ out: "" })), /kmeans printed no result line/);
  assert.throws(() => parseRunOutput(output().replace(/vmstat1=.*\n/, "vmstat1=\n")), /no pswpout/);
});

Deno.test("scalevisor guest scripts: cgroup limit as per-mille of the recorded peak; swap device per run", () => {
  const base = runScript({ swap: "none", size, seed: 1, recordPeak: true });
  assert.match(base, /^echo max > "\$cg\/memory.max"/m);
  assert.match(base, new RegExp(`cat "\\$cg/memory.peak" > ${PEAK_FILE}`));
  assert.doesNotMatch(base, /swapon/);
  assert.match(base, /exec \/usr\/bin\/kmeans 1000 8 4 3 1'/);

  const half = runScript({ swap: "remote", perMille: 500, size, seed: 7 });
  assert.match(half, /^swapon \/dev\/vda \|\| exit 4$/m);
  assert.match(half, /4096 \* 4096 \)\) > "\$cg\/memory.max"/);
  const high = runScript({ swap: "remote", perMille: 500, limitFile: "memory.high", size, seed: 7 });
  assert.match(high, /4096 \* 4096 \)\) > "\$cg\/memory.high"/);
  assert.match(high, /^echo "memory_high=\$\(cat "\$cg\/memory.high"\)"$/m);
  assert.match(half, /echo \$\(\( \$\(cat \/run\/hyperlab-kmeans.peak\) \* 500 \/ 1000 \/ 4096 \* 4096 \)\)/);
  assert.doesNotMatch(half, new RegExp(`> ${PEAK_FILE}`));
  assert.match(half, /kmeans 1000 8 4 3 7'/);
  assert.match(runScript({ swap: "local-disk", perMille: 250, size, seed: 1 }), /^swapon \/dev\/vdb /m);

  const setup = setupScript(["/dev/vda", "/dev/vdb"]);
  assert.match(setup, /mount -t cgroup2 cgroup2 \/sys\/fs\/cgroup/);
  assert.match(setup, /echo \+memory > \/sys\/fs\/cgroup\/cgroup.subtree_control/);
  assert.match(setup, /^mkswap \/dev\/vda >\/dev\/null\nmkswap \/dev\/vdb >\/dev\/null$/m);
  assert.equal(
    probeScript([3]),
    'dd if=/dev/vda of=/dev/null bs=4096 skip=3 count=1 iflag=direct 2>/dev/null && echo "probe 3 ok" || echo "probe 3 failed"',
  );
});

Deno.test("scalevisor node scripts: the server start line quotes paths and keeps placeholders", () => {
  const s = serverStartScript({
    dir: "/home/x y",
    deno: "/c/deno-1",
    bundle: "/c/rmem.js",
    pool: "64M",
    host: "10.0.0.2",
  });
  assert.match(s, /^cd '\/home\/x y'$/m);
  assert.match(
    s,
    /setsid nohup \/c\/deno-1 run --no-config --no-lock -A --quiet \/c\/rmem.js --pool 64M --host 10.0.0.2 --port 0 >"\$log"/,
  );
  const planned = serverStartScript({ dir: "<cache>", deno: "<deno>", bundle: "<rmem.js>", pool: "1G", host: "h" });
  assert.match(planned, /^cd <cache>$/m);
  assert.match(planned, / <deno> run .* <rmem.js> /);
  const stop = serverStopScript(42, "/c/rmem-server.abc.log", "SIGKILL");
  assert.match(stop, /^kill -KILL 42 /);
  assert.match(stop, /rm -f \/c\/rmem-server.abc.log$/);
  assert.match(serverStopScript(1, "/a b/l.log"), /rm -f '\/a b\/l.log'$/);
  assert.match(serverStopScript(42, "/l"), /^kill -TERM 42 /);
});

Deno.test("scalevisor medians: per (ratio, swap), OOM-killed runs left out, even counts averaged", () => {
  const run = (
    ratio: number | null,
    swap: SweepRun["swap"],
    wallSeconds: number,
    outcome: "ok" | "oom-killed" = "ok",
  ) => ({ ratio, swap, wallSeconds, outcome }) as SweepRun;
  assert.deepEqual(
    medians([
      run(null, "none", 3),
      run(0.5, "remote", 9),
      run(null, "none", 5),
      run(0.5, "remote", 7),
      run(0.5, "remote", 100, "oom-killed"),
      run(0.5, "remote", 8),
      run(0.5, "local-disk", 4),
      run(0.5, "local-disk", 5),
      run(0.25, "remote", 1, "oom-killed"),
    ]),
    [
      { ratio: null, swap: "none", wallSeconds: 4, samples: 2 },
      { ratio: 0.5, swap: "remote", wallSeconds: 8, samples: 3 },
      { ratio: 0.5, swap: "local-disk", wallSeconds: 4.5, samples: 2 },
    ],
  );
});

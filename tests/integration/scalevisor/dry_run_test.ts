/**
 * `--dry-run` of the Scalevisor playbook: the exact plan, in order, for local memory servers and for servers on
 * inventory nodes — nothing starts (no server, guest or SSH connection; the inventory's hosts do not exist).
 */
import assert from "node:assert/strict";
import { runPlaybook } from "../../../lib/core/runner.ts";
import {
  buildQemuArgv,
  type GuestOptionsInput,
  parseGuestOptions,
  QEMU_BINARY,
  type QemuRuntime,
} from "../../../lib/lab/guests_mod.ts";
import { buildCommandLine } from "../../../lib/remote/mod.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { serverCommand } from "../../../lib/rmem/mod.ts";
import { probeScript } from "../../../playbooks/scalevisor/fault_drill.ts";
import { runScript, setupScript } from "../../../playbooks/scalevisor/guest_script.ts";
import { KMEANS_SOURCE } from "../../../playbooks/scalevisor/kmeans.ts";
import scalevisor from "../../../playbooks/scalevisor/mod.ts";
import { serverStartScript } from "../../../playbooks/scalevisor/servers.ts";
import { cli } from "../../_cli.ts";
import { tempDir } from "../../_helpers.ts";

/** The QEMU command line startGuest plans under --dry-run (its placeholders), built through the guests' public face. */
function qemu(drives: GuestOptionsInput["drives"]): string {
  const rt: QemuRuntime = {
    kernel: "<cache>/vmlinux",
    initrd: "<cache>/guest.cpio.gz",
    qmpSocket: "<rundir>/qmp.sock",
    sshPort: 0,
    forwardPorts: [],
    accel: "tcg",
  };
  const argv = buildQemuArgv(parseGuestOptions({ name: "scalevisor", cpus: 1, memoryMiB: 256, drives }), rt);
  return [QEMU_BINARY, ...argv].join(" ");
}
const NBD = { nbd: "nbd://127.0.0.1:<port>/swap" };
const GCC = `gcc -static -O2 -o <cache>/kmeans ${KMEANS_SOURCE} -lm`;

type Entry = [kind: string, target: string, action: string];

async function plan(params: Record<string, unknown>): Promise<{ entries: Entry[]; result: unknown }> {
  using dir = tempDir();
  const store = ResultsStore.open(`${dir.path}/r.db`);
  try {
    const out = await runPlaybook(scalevisor, params, { store, dryRun: true });
    assert.equal(out.status, "ok", String(out.error));
    return {
      entries: store.planEntries(out.runId).map((e) => [e.kind, e.target, e.action] as Entry),
      result: out.result,
    };
  } finally {
    store.close();
  }
}

Deno.test("scalevisor --dry-run: exact plan with local memory servers, both baselines and the fault drill", async () => {
  const { entries, result } = await plan({
    servers: 2,
    poolPerServer: "64M",
    disk: "64M",
    workingSet: "32M",
    ratios: [1, 0.5],
    killServer: true,
  });
  const size = { points: (32 << 20) / 32, dims: 8, k: 4, iterations: 2 };
  const guest = (script: string): Entry => ["ssh", "scalevisor", script];
  assert.deepEqual(entries, [
    ["process", "localhost", serverCommand({ pool: "64M" }).join(" ")],
    ["process", "localhost", serverCommand({ pool: "64M" }).join(" ")],
    ["process", "localhost", GCC],
    [
      "rmem",
      "localhost",
      "connect 127.0.0.1:<port>,127.0.0.1:<port> (33554432 bytes each, merge off); " +
      "serve NBD export swap of 67108864 bytes on 127.0.0.1:<port>",
    ],
    ["file", "localhost", "create sparse raw image /<run dir>/local-swap.raw of 67108864 bytes"],
    ["qemu", "scalevisor", qemu([NBD, { file: "/<run dir>/local-swap.raw", format: "raw" }])],
    guest(setupScript(["/dev/vda", "/dev/vdb"])),
    guest(runScript({ swap: "none", size, seed: 1, recordPeak: true })),
    guest(runScript({ swap: "remote", perMille: 1000, size, seed: 1 })),
    guest(runScript({ swap: "local-disk", perMille: 1000, size, seed: 1 })),
    guest(runScript({ swap: "remote", perMille: 500, size, seed: 1 })),
    guest(runScript({ swap: "local-disk", perMille: 500, size, seed: 1 })),
    ["process", "localhost", "SIGKILL the memory server at 127.0.0.1:<port>"],
    guest(probeScript(["<lost block>"])),
  ]);
  assert.deepEqual(result, {
    dryRun: true,
    servers: [{ node: "localhost", endpoint: "127.0.0.1:<port>" }, {
      node: "localhost",
      endpoint: "127.0.0.1:<port>",
    }],
  });
});

Deno.test("scalevisor --dry-run: exact plan with memory servers on inventory nodes (none contacted), merge on", async () => {
  using dir = tempDir();
  const inv = `${dir.path}/inv.yaml`;
  await Deno.writeTextFile(
    inv,
    "nodes:\n  - name: m0\n    host: 10.9.9.10\n    user: nobody\n  - name: m1\n    host: 10.9.9.11\n    user: nobody\n" +
      "  - name: m2\n    host: 10.9.9.12\n    user: nobody\n",
  );
  const { entries } = await plan({
    inventory: inv,
    limit: "m1,m2",
    servers: 2,
    ratios: [0.25],
    diskBaseline: false,
    merge: true,
    k: 2,
    iterations: 1,
  });
  const size = { points: (96 << 20) / 32, dims: 8, k: 2, iterations: 1 };
  const start = (host: string) =>
    buildCommandLine({
      cmd: serverStartScript({ dir: "<cache>", deno: "<deno>", bundle: "<rmem-server.js>", pool: "128M", host }),
    });
  const install = "install deno and rmem-server.js (bundle of lib/rmem/server_main.ts) into $HOME/.cache/hyperlab";
  assert.deepEqual(entries, [
    ["process", "localhost", "deno bundle --quiet lib/rmem/server_main.ts -o /<run dir>/rmem-server.js"],
    ["file", "m1", install],
    ["file", "m2", install],
    ["ssh", "m1", start("10.9.9.11")],
    ["ssh", "m2", start("10.9.9.12")],
    ["process", "localhost", GCC],
    [
      "rmem",
      "localhost",
      "connect 10.9.9.11:<port>,10.9.9.12:<port> (67108864 bytes each, merge on); " +
      "serve NBD export swap of 134217728 bytes on 127.0.0.1:<port>",
    ],
    ["qemu", "scalevisor", qemu([NBD])],
    ["ssh", "scalevisor", setupScript(["/dev/vda"])],
    ["ssh", "scalevisor", runScript({ swap: "none", size, seed: 1, recordPeak: true })],
    ["ssh", "scalevisor", runScript({ swap: "remote", perMille: 250, size, seed: 1 })],
  ]);
});

Deno.test("scalevisor --dry-run: --repeat 2 interleaves rounds; only the first all-local run sets the limit base", async () => {
  const { entries } = await plan({ ratios: [0.5], diskBaseline: false, repeat: 2, iterations: 1 });
  const size = { points: (96 << 20) / 32, dims: 8, k: 4, iterations: 1 };
  assert.deepEqual(entries.filter((e) => e[0] === "ssh").map((e) => e[2]), [
    setupScript(["/dev/vda"]),
    runScript({ swap: "none", size, seed: 1, recordPeak: true }),
    runScript({ swap: "remote", perMille: 500, size, seed: 1 }),
    runScript({ swap: "none", size, seed: 1 }),
    runScript({ swap: "remote", perMille: 500, size, seed: 1 }),
  ]);
});

Deno.test("scalevisor CLI: --dry-run prints the plan; a bad flag names it and starts nothing", async () => {
  using dir = tempDir();
  const db = `${dir.path}/r.db`;
  const ok = await cli("play", [
    "scalevisor",
    "--results",
    db,
    "--dry-run",
    "--ratios",
    "0.5",
    "--disk-baseline",
    "false",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const out = ok.stdout + ok.stderr;
  assert.match(out, /would qemu @ scalevisor: qemu-system-x86_64 .*-drive file=nbd:\/\/127\.0\.0\.1:<port>\/swap/);
  assert.match(out, /would ssh @ scalevisor: .*\n(.*\n)*swapon \/dev\/vda \|\| exit 4/);
  assert.match(out, /\* 500 \/ 1000 \/ 4096 \* 4096/);
  const bad = await cli("play", ["scalevisor", "--results", db, "--dry-run", "--working-set", "200M"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /--working-set: expected at most --disk \(128M\)/);
  assert.doesNotMatch(bad.stdout + bad.stderr, /would /);
});

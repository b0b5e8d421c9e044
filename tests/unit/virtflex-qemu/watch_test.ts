/**
 * The in-guest watchers, run for real by the host's /bin/sh against a fake sysfs tree: they must print their markers
 * when (and only when) the tree changes the way a guest's does, and give up after their poll budget.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cpuAddPhases,
  cpuOfflinePhase,
  gonePhase,
  installPreludeCommand,
  memPhase,
  phaseLine,
  type WatchPhase,
  watchPrelude,
  watchScript,
} from "../../../lib/virtflex/mod.ts";
import { tempDir } from "../../_helpers.ts";

/** A fake /sys with cpu0..cpu1 (node0: 0, node1: 1) and node meminfo files. */
function fakeSys(root: string): void {
  for (const c of [0, 1]) Deno.mkdirSync(join(root, `devices/system/cpu/cpu${c}`), { recursive: true });
  for (const n of [0, 1]) {
    Deno.mkdirSync(join(root, `devices/system/node/node${n}`), { recursive: true });
    Deno.writeTextFileSync(join(root, `devices/system/node/node${n}/cpulist`), `${n}\n`);
    Deno.writeTextFileSync(join(root, `devices/system/node/node${n}/meminfo`), memInfo(n, 190892));
  }
  Deno.mkdirSync(join(root, "devices/system/memory/memory32"), { recursive: true });
}

function memInfo(node: number, kib: number): string {
  return `Node ${node} MemTotal:       ${kib} kB\nNode ${node} MemFree:        1000 kB\n`;
}

/** Runs a watcher with the host's sh; `lines()` resolves with everything printed once the watcher has exited. */
function runWatcher(script: string) {
  const child = new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "piped" }).spawn();
  let out = "";
  const reading = (async () => {
    for await (const c of child.stdout.pipeThrough(new TextDecoderStream())) out += c;
  })();
  const seen = async (re: RegExp, ms = 5000) => {
    const end = Date.now() + ms;
    while (!re.test(out)) {
      if (Date.now() > end) throw new Error(`no ${re} in watcher output:\n${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return re.exec(out)!;
  };
  const finished = async () => {
    const [st, err] = await Promise.all([child.status, new Response(child.stderr).text(), reading]);
    return { code: st.code, out, err };
  };
  return { seen, finished };
}

const opts = (sys: string, maxPolls = 2000): { sys: string; pollMs: number; maxPolls: number } => ({
  sys,
  pollMs: 5,
  maxPolls,
});

Deno.test("watcher: a hot-added CPU is reported present, onlined (like udev) and seen in its node's cpulist", async () => {
  using tmp = tempDir();
  fakeSys(tmp.path);
  const w = runWatcher(watchScript("t1", cpuAddPhases(1), opts(tmp.path)));
  await w.seen(phaseLine("t1", "armed"));
  await assert.rejects(w.seen(phaseLine("t1", "present"), 60), /no .* in watcher output/);
  Deno.mkdirSync(join(tmp.path, "devices/system/cpu/cpu2"));
  const present = await w.seen(phaseLine("t1", "present"));
  assert.equal(present[2], "cpu2");
  // The watcher onlines it, as Virtflex's udev rule does.
  const online = join(tmp.path, "devices/system/cpu/cpu2/online");
  await waitFile(online, "1");
  // Only node1 gaining CPU 2 counts; node0 gaining it does not.
  Deno.writeTextFileSync(join(tmp.path, "devices/system/node/node0/cpulist"), "0,2\n");
  await assert.rejects(w.seen(phaseLine("t1", "node"), 60), /no .* in watcher output/);
  Deno.writeTextFileSync(join(tmp.path, "devices/system/node/node1/cpulist"), "1-2\n");
  assert.equal((await w.seen(phaseLine("t1", "node")))[2], "cpu2");
  const done = await w.finished();
  assert.equal(done.code, 0, done.err);
  assert.match(done.out, /^t1 armed\nt1 present cpu2\nt1 node cpu2\nt1 done\n$/);
});

async function waitFile(path: string, content: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (Deno.readTextFileSync(path).trim() === content) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} never read ${content}`);
}

Deno.test("watcher: node MemTotal up, then down; CPU leaving cpulist; sysfs directories gone", async () => {
  using tmp = tempDir();
  fakeSys(tmp.path);
  const meminfo = join(tmp.path, "devices/system/node/node1/meminfo");
  const phases: WatchPhase[] = [
    memPhase("grown", 1, 321964 - 4096, true),
    memPhase("shrunk", 1, 190892 + 4096, false),
    cpuOfflinePhase(1, 1),
    gonePhase("gone", ["devices/system/memory/memory32"]),
  ];
  const w = runWatcher(watchScript("t2", phases, opts(tmp.path)));
  await w.seen(phaseLine("t2", "armed"));
  Deno.writeTextFileSync(meminfo, memInfo(1, 200000)); // not enough yet
  await new Promise((r) => setTimeout(r, 60));
  Deno.writeTextFileSync(meminfo, memInfo(1, 321964));
  assert.equal((await w.seen(phaseLine("t2", "grown")))[2], "321964");
  Deno.writeTextFileSync(meminfo, memInfo(1, 190892));
  assert.equal((await w.seen(phaseLine("t2", "shrunk")))[2], "190892");
  Deno.writeTextFileSync(join(tmp.path, "devices/system/node/node1/cpulist"), "\n");
  await w.seen(phaseLine("t2", "offline"));
  Deno.removeSync(join(tmp.path, "devices/system/memory/memory32"));
  await w.seen(phaseLine("t2", "gone"));
  assert.equal((await w.finished()).code, 0);
});

Deno.test("watcher: gives up after its poll budget with a timeout line naming the phase", async () => {
  using tmp = tempDir();
  fakeSys(tmp.path);
  const w = runWatcher(watchScript("t3", cpuAddPhases(1), opts(tmp.path, 5)));
  const m = await w.seen(phaseLine("t3", "present"));
  assert.equal(m[1], undefined);
  assert.equal(m[3], "present");
  assert.equal((await w.finished()).code, 1);
});

Deno.test("watcher: helpers sourced from the installed prelude file behave the same", async () => {
  using tmp = tempDir();
  fakeSys(tmp.path);
  const file = join(tmp.path, "prelude.sh");
  const install = await new Deno.Command("sh", { args: ["-c", installPreludeCommand(file, tmp.path)] }).output();
  assert.equal(install.code, 0);
  assert.equal(Deno.readTextFileSync(file).trim(), watchPrelude(tmp.path).trim());
  const w = runWatcher(watchScript("t4", [cpuOfflinePhase(1, 1)], { ...opts(tmp.path), preludeFile: file }));
  await w.seen(phaseLine("t4", "armed"));
  Deno.writeTextFileSync(join(tmp.path, "devices/system/node/node1/cpulist"), "3-5,7\n");
  await w.seen(phaseLine("t4", "offline"));
  assert.equal((await w.finished()).code, 0);
});

Deno.test("watcher: bad tags and phase names are refused", () => {
  assert.throws(() => watchScript("bad tag", [], { pollMs: 5, maxPolls: 1 }), /watch tag/);
  assert.throws(() => watchScript("t", [{ name: "Bad!", until: "true" }], { pollMs: 5, maxPolls: 1 }), /phase name/);
});

/**
 * `deno task lab up --guests M`: QEMU lab guests that outlive the CLI, join the lab inventory and are driven by the
 * cluster layer like any node (through the play CLI), shown by `lab status`, resized by `lab up`, stopped by
 * `lab down`. One guest at a time (TCG guests are CPU-heavy).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import { loadInventory } from "../../../lib/inventory/mod.ts";
import type { LabGuest } from "../../../lib/lab/lab_guests.ts";
import { labDown, type LabState, labUp } from "../../../lib/lab/lab_nodes.ts";
import { connectCluster } from "../../../lib/remote/mod.ts";
import { alive } from "../../../lib/lab/sys.ts";
import { cli } from "../../_cli.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools } from "../guests/_guest_env.ts";
import { labSkipReason, processesMatching } from "./_lab.ts";

async function labCli(...args: string[]): Promise<{ code: number; out: string }> {
  return await labCliEnv({}, ...args);
}

async function labCliEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string }> {
  const main = new URL("../../../lib/lab/lab_main.ts", import.meta.url).pathname;
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", main, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr) };
}

Deno.test("lab --guests: bad values are named", async () => {
  const word = await labCli("up", "--guests", "two");
  assert.equal(word.code, 1);
  assert.match(word.out, /--guests: expected a non-negative integer \(number of QEMU guests\) \(got "two"\)/);
  const neg = await labCli("up", "--guests=-1");
  assert.match(neg.out, /--guests: expected a non-negative integer/);
  const none = await labCli("up", "--dir", "/nonexistent/hyperlab-lab");
  assert.match(none.out, /--nodes: expected the number of nodes and\/or --guests M/);
  const dir = "/nonexistent/hyperlab-lab";
  await assert.rejects(
    () => labUp(1, { dir, guests: 99 }),
    (e: unknown) => e instanceof InputError && e.field === "--guests" && /0\.\.32/.test(e.message),
  );
  await assert.rejects(() => labUp(1, { dir, guests: 1.5 }), (e: unknown) => e instanceof InputError);
  await assert.rejects(
    () => labUp(0, { dir, guests: 0 }),
    (e: unknown) => e instanceof InputError && e.field === "--nodes" && /1\.\.200/.test(e.message),
  );
});

function state(dir: string): LabState {
  return JSON.parse(readFileSync(join(dir, "lab.json"), "utf8"));
}

/** Non-zombie QEMU processes running from the lab's guests directory. */
function labQemus(dir: string): number[] {
  return processesMatching(join(dir, "guests") + "/").filter(alive);
}

/** The guest kernel's release, from the kernel file QEMU was started with (linux-image-<release>_<version>.…). */
function guestRelease(g: LabGuest): string {
  const kernel = g.node.argv[g.node.argv.indexOf("-kernel") + 1];
  return /^linux-image-(.+?)_/.exec(basename(kernel))![1];
}

Deno.test({
  name: "lab --guests: up boots a guest into the inventory, play drives it, status, resize, down leaves nothing",
  ignore: skipIf(labSkipReason() ?? needGuestTools()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = Deno.makeTempDirSync({ prefix: "hyperlab-hlg-" });
    const flags = ["--dir", dir, "--prefix", "hlg", "--subnet", "209"];
    using results = tempDir("hyperlab-hlg-results-");
    const db = join(results.path, "runs.db");
    try {
      const up = await labCli("up", "--guests", "1", ...flags);
      assert.equal(up.code, 0, up.out);
      const [g0] = state(dir).guests!;
      assert.equal(g0.name, "g0");
      assert.match(up.out, new RegExp(`g0 +127\\.0\\.0\\.1:${g0.port} +\\(QEMU pid ${g0.pid}`));
      assert.deepEqual(state(dir).nodes, [], "--guests alone: a lab of guests only");
      assert.ok(alive(g0.pid), "QEMU outlives the CLI that started it");
      assert.ok(g0.dir.startsWith(join(dir, "guests", "hyperlab-g0-")), g0.dir);

      const inv = await loadInventory(join(dir, "inventory.yaml"));
      const spec = inv.node("g0");
      assert.equal(spec.host, "127.0.0.1");
      assert.equal(spec.port, g0.port);
      assert.equal(spec.user, "root");
      assert.equal(spec.key, g0.node.endpoint!.key);
      assert.deepEqual([spec.tags, spec.roles], [["guest"], ["guest"]]);
      assert.deepEqual([...inv.members("guest")!], ["g0"]);
      assert.ok(
        readFileSync(join(dir, "known_hosts"), "utf8").includes(`[127.0.0.1]:${g0.port} ${g0.node.endpoint!.hostKey}`),
      );

      // The cluster layer drives the guest like any node, through the play CLI (host key verified, no TOFU).
      const run = await cli("play", [
        "cluster/run",
        "--inventory",
        join(dir, "inventory.yaml"),
        "--limit",
        "g0",
        "--command",
        "uname -r",
        "--results",
        db,
      ]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, new RegExp(`\\[g0\\] ${guestRelease(g0).replaceAll(".", "\\.")}\\n`));

      // File transfer too (SFTP, checksummed), back to back on one connection: lab guests run OpenSSH's sshd, since
      // Debian 12's dropbear drops the session there (mkj/dropbear#321).
      const local = join(results.path, "payload");
      Deno.writeTextFileSync(local, "to the guest and back\n");
      {
        using c = connectCluster(inv.limit("g0"));
        for (let i = 0; i < 5; i++) {
          assert.equal((await c.nodes[0].upload(local, `/tmp/payload${i}`)).bytes, 22);
          await c.nodes[0].download(`/tmp/payload${i}`, `${local}.back`);
        }
        const sshd = await c.nodes[0].run(["cat", "/run/sshd.pid"], { stream: false, check: false });
        assert.equal(sshd.exitCode, 0, "OpenSSH's sshd serves the guest");
        c.close();
      }
      assert.equal(Deno.readTextFileSync(`${local}.back`), "to the guest and back\n");

      const again = await labCli("up", "--guests", "1", ...flags);
      assert.equal(again.code, 0, again.out);
      assert.deepEqual(state(dir).guests, [g0], "up again keeps the running guest as it is");

      const st = await labCli("status", ...flags);
      assert.equal(st.code, 0, st.out);
      assert.match(st.out, new RegExp(`g0 +127\\.0\\.0\\.1:${g0.port} +up +qemu:pid ${g0.pid}`));
      Deno.kill(g0.pid, "SIGKILL");
      for (let i = 0; i < 50 && alive(g0.pid); i++) await new Promise((r) => setTimeout(r, 100));
      const dead = await labCli("status", ...flags);
      assert.equal(dead.code, 1, dead.out);
      assert.match(dead.out, /g0 +127\.0\.0\.1:\d+ +DOWN +qemu:not running/);

      // Shrinking to no guests (and growing to one node) drops g0 from the inventory and its files.
      const shrink = await labCli("up", "--nodes", "1", "--guests", "0", ...flags);
      assert.equal(shrink.code, 0, shrink.out);
      assert.deepEqual((await loadInventory(join(dir, "inventory.yaml"))).nodes.map((n) => n.name), ["n0"]);
      assert.equal(state(dir).guests, undefined);
      assert.ok(!existsSync(g0.dir));

      // --guests with the nodes left out keeps n0 and starts g0 again; one fan-out reaches both.
      const grow = await labCli("up", "--guests", "1", ...flags);
      assert.equal(grow.code, 0, grow.out);
      const [g1] = state(dir).guests!;
      assert.notEqual(g1.pid, g0.pid);
      const both = await cli("play", [
        "cluster/run",
        "--inventory",
        join(dir, "inventory.yaml"),
        "--command",
        "uname -n",
        "--results",
        db,
      ]);
      assert.equal(both.code, 0, both.stdout + both.stderr);
      assert.match(both.stdout + both.stderr, /\[n0\] /);
      assert.match(both.stdout + both.stderr, /\[g0\] g0\n/);

      const down = await labCli("down", ...flags);
      assert.equal(down.code, 0, down.out);
      assert.match(down.out, /removed hlg-n0, g0/);
      assert.deepEqual(labQemus(dir), [], "no QEMU of the lab left");
      assert.ok(!alive(g1.pid));
      assert.ok(!existsSync(join(dir, "inventory.yaml")), "inventory (and g0 with it) gone");
      assert.match((await labCli("status", ...flags)).out, /no lab/);
    } finally {
      await labDown({ dir, prefix: "hlg", subnet: 209 });
    }
  },
});

Deno.test({
  name: "lab --guests: a guest that cannot start fails `lab up` naming it, with nothing left running or recorded",
  ignore: skipIf(labSkipReason()),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    using t = tempDir("hyperlab-hlgf-");
    const dir = join(t.path, "lab");
    const flags = ["--dir", dir, "--prefix", "hlgf", "--subnet", "210"];
    // Only what the lab itself needs is on PATH: the guest image tools and QEMU are missing.
    Deno.mkdirSync(join(t.path, "bin"));
    for (const cmd of ["ip", "ssh-keygen"]) {
      const where = new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "piped" }).outputSync();
      Deno.symlinkSync(new TextDecoder().decode(where.stdout).trim(), join(t.path, "bin", cmd));
    }
    try {
      const r = await labCliEnv({ PATH: join(t.path, "bin"), HYPERLAB_ACCEL: "tcg" }, "up", "--guests", "1", ...flags);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /lab guests failed to start: g0: .*(not installed|must be installed)/);
      assert.match(r.out, /0 of 1 guests run and are in the inventory/);
      assert.equal(state(dir).guests, undefined);
      assert.deepEqual(labQemus(dir), []);
    } finally {
      await labDown({ dir, prefix: "hlgf", subnet: 210 });
    }
  },
});

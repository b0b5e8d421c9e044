/**
 * Faults of lab guests: missing QEMU or kernel package, a port in use, a kernel that never reaches the marker,
 * QEMU dying mid-run, and a run cancelled with Ctrl-C (the guest must not outlive it).
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { InputError, MissingError, TimeoutError } from "../../../lib/core/errors.ts";
import { definePlaybook } from "../../../lib/core/playbook.ts";
import { runPlaybook } from "../../../lib/core/runner.ts";
import { ResultsStore } from "../../../lib/results/store.ts";
import { fetchKernel, freePort, GuestExitedError, QmpClosedError, startGuest } from "../../../lib/lab/guests_mod.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools, pathExists, processAlive } from "./_guest_env.ts";

const skip = needGuestTools();

Deno.test({
  name: "faults: missing QEMU is a MissingError that says which package to install",
  async fn() {
    using empty = tempDir();
    const path = Deno.env.get("PATH") ?? "";
    Deno.env.set("PATH", empty.path);
    try {
      await assert.rejects(startGuest({ accel: "tcg" }), (e: unknown) => {
        assert.ok(e instanceof MissingError, String(e));
        assert.match(e.message, /qemu-system-x86_64 is not installed/);
        assert.equal(e.hint, "apt-get install qemu-system-x86");
        return true;
      });
    } finally {
      Deno.env.set("PATH", path);
    }
  },
});

Deno.test({
  name: "faults: an unknown kernel package is a MissingError with how to fix it",
  ignore: skipIf(skip),
  async fn() {
    await assert.rejects(fetchKernel({ package: "linux-image-0.0.0-0-amd64" }), (e: unknown) => {
      assert.ok(e instanceof MissingError, String(e));
      assert.match(e.message, /linux-image-0\.0\.0-0-amd64 is not available from apt/);
      assert.match(e.hint ?? "", /apt-get update/);
      return true;
    });
    await assert.rejects(
      fetchKernel({ package: "linux-headers-6.1" }),
      (e: unknown) => e instanceof InputError && e.field === "package",
    );
  },
});

Deno.test({
  name: "faults: a requested SSH port already in use is an InputError naming network.sshPort",
  ignore: skipIf(skip),
  async fn() {
    const port = freePort();
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    try {
      await assert.rejects(
        startGuest({ accel: "tcg", network: { sshPort: port } }),
        (e: unknown) => e instanceof InputError && e.field === "network.sshPort" && /in use/.test(e.message),
      );
      await assert.rejects(
        startGuest({ accel: "tcg", network: { enabled: false }, waitUntil: "ssh" }),
        (e: unknown) => e instanceof InputError && e.field === "waitUntil",
      );
      await assert.rejects(
        startGuest({ accel: "tcg", bootTimeoutMs: 5 }),
        (e: unknown) => e instanceof InputError && e.field === "bootTimeoutMs",
      );
    } finally {
      l.close();
    }
  },
});

Deno.test({
  name: "faults: a kernel that never reaches the userspace marker times out with the console tail; QEMU is gone",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // rdinit=/bin/cat: the kernel boots, but init is `cat` reading the console, so no marker ever comes.
    const t0 = performance.now();
    const err = await startGuest({
      name: "nomarker",
      accel: "tcg",
      kernelArgs: ["rdinit=/bin/cat", "loglevel=6"],
      bootTimeoutMs: 6_000,
    }).then(() => null, (e) => e);
    assert.ok(err instanceof TimeoutError, String(err));
    assert.match(err.message, /guest nomarker: waiting for .*hyperlab-guest: userspace.*timed out after 6000 ms/s);
    assert.match(err.message, /console tail:\n(.*\n)*\[\s*\d+\.\d+\] /, "the tail holds the kernel's log lines");
    assert.ok(performance.now() - t0 < 30_000);
    const left = new Deno.Command("pgrep", { args: ["-f", "guest=nomarker"], stdout: "piped" }).outputSync();
    assert.equal(new TextDecoder().decode(left.stdout).trim(), "", "no QEMU left for the guest");
  },
});

Deno.test({
  name: "faults: QEMU dying mid-run is detected and reported, calls fail at once, resources are freed",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const g = await startGuest({ name: "dies", accel: "tcg", waitUntil: "started" });
    assert.ok(g.running && processAlive(g.pid));
    const dir = g.dir!;
    assert.ok(pathExists(dir));
    const waiting = g.waitFor(/this never appears/, { timeoutMs: 60_000 }).then(() => null, (e) => e);
    Deno.kill(g.pid, "SIGKILL");
    const exit = await g.finished;
    assert.deepEqual(exit, { code: null, signal: "SIGKILL", expected: false });
    const e = await waiting;
    assert.ok(e instanceof GuestExitedError, String(e));
    assert.match(e.message, /guest dies: QEMU exited unexpectedly \(signal SIGKILL\)/);
    await assert.rejects(g.exec("true"), GuestExitedError);
    await assert.rejects(g.qmp.status(), QmpClosedError);
    assert.equal(g.exitSignal.aborted, true);
    assert.equal(pathExists(dir), false, "runtime dir (QMP socket, known_hosts) removed");
    assert.equal((await g.shutdown()).how, "already-exited");
    await g.stop(); // idempotent after death
  },
});

Deno.test({
  name: "faults: Ctrl-C (abort) of a run kills its guest through the deferred cleanup",
  ignore: skipIf(skip),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let pid = 0;
    let dir = "";
    const started = Promise.withResolvers<void>();
    const pb = definePlaybook({
      name: "test-guest-ctrl-c",
      description: "starts a guest and waits forever",
      params: z.object({}),
      async run(ctx) {
        const g = await startGuest({ name: "ctrlc", accel: "tcg", waitUntil: "started" });
        pid = g.pid;
        dir = g.dir!;
        started.resolve();
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      },
    });
    using store = ResultsStore.open(":memory:");
    const ac = new AbortController();
    const outcome = runPlaybook(pb, {}, { store, signal: ac.signal });
    await started.promise;
    assert.ok(processAlive(pid));
    ac.abort("Ctrl-C");
    const out = await outcome;
    assert.equal(out.status, "interrupted");
    assert.equal(processAlive(pid), false, "QEMU must not outlive the run");
    assert.equal(pathExists(dir), false);
    const left = new Deno.Command("pgrep", { args: ["-f", "guest=ctrlc"], stdout: "piped" }).outputSync();
    assert.equal(new TextDecoder().decode(left.stdout).trim(), "");
  },
});

/** libxenctrl shim and xl wrappers on this machine: real Xen where present, the clear MissingError where not. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { MissingError } from "../../../lib/core/errors.ts";
import { openXenctrl, PRIVCMD, Xl } from "../../../lib/xen/mod.ts";
import type { CommandRunner } from "../../../lib/xen/mod.ts";
import { needPath, skipIf } from "../../_helpers.ts";

const hasXen = existsSync(PRIVCMD);

Deno.test({
  name: "xenctrl: without Xen, one MissingError naming /dev/xen/privcmd",
  ignore: skipIf(hasXen && "Xen is present: the no-Xen error path does not apply"),
}, async () => {
  await assert.rejects(openXenctrl(), (e) => e instanceof MissingError && e.message.includes("/dev/xen/privcmd"));
});

Deno.test(
  { name: "xenctrl: version and physinfo from the hypervisor", ignore: skipIf(needPath(PRIVCMD, "Xen")) },
  async () => {
    const xc = await openXenctrl();
    const v = await xc.version();
    assert.ok(v.major >= 4);
    const p = await xc.physinfo();
    assert.ok(p.nrCpus >= 1 && p.totalMemoryKiB > 0);
    assert.ok((await xc.domains()).some((d) => d.domid === 0));
  },
);

Deno.test("xenctrl shim builds and exports its symbols (compiled against libxen-dev)", {
  ignore: skipIf(needPath("/usr/include/xenctrl.h", "libxen-dev (xenctrl.h)")),
}, async () => {
  const { xenctrlShim } = await import("../../../lib/xen/ffi.ts");
  assert.equal(typeof xenctrlShim().hl_xc_physinfo, "function");
});

Deno.test("xl: commands and argv; xl missing is a MissingError", async () => {
  const calls: string[][] = [];
  /** Test double of a dom0 shell: records argv, answers `xl list` like xl 4.17. */
  const recordingRunnerDouble: CommandRunner = (argv) => {
    calls.push(argv);
    const stdout = argv[1] === "list"
      ? "Name   ID   Mem VCPUs\tState\tTime(s)\nDomain-0  0  1024  2  r-----  1.0\nguest  7  512  2  -b----  0.5\n"
      : "";
    return Promise.resolve({ code: 0, stdout, stderr: "" });
  };
  const xl = new Xl({ run: recordingRunnerDouble, target: "dom0-double" });
  assert.equal(await xl.domid("guest"), 7);
  await xl.vcpuPin("guest", 1, "3");
  await xl.vcpuSet(7, 2);
  await xl.create({ name: "g", memory: 64, vcpus: 1, kernel: "/k" }, { dir: "/tmp/x" });
  await xl.destroy("g");
  assert.deepEqual(calls.map((c) => c.join(" ")), [
    "xl list",
    "xl vcpu-pin guest 1 3",
    "xl vcpu-set 7 2",
    "tee /tmp/x/g.cfg",
    "xl create /tmp/x/g.cfg",
    "xl destroy g",
  ]);
  await assert.rejects(xl.vcpuSet("bad name", 1), /domain: expected/);
  await assert.rejects(xl.vcpuPin("g", 0, "1-"), /hard: expected/);
  const failing = new Xl({ run: () => Promise.resolve({ code: 1, stdout: "", stderr: "libxl: error: no domain\n" }) });
  await assert.rejects(failing.destroy("zz"), /xl destroy zz exited 1: libxl: error: no domain/);
  const missing = new Xl({ xlPath: "/nonexistent/xl" });
  await assert.rejects(missing.list(), (e) => e instanceof MissingError && /xen-utils/.test(e.hint ?? ""));
});

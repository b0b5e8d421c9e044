import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { parseGuestOptions } from "../../../lib/lab/qemu_options.ts";
import type { GuestOptionsInput } from "../../../lib/lab/qemu_options.ts";

function badField(input: unknown): InputError {
  try {
    parseGuestOptions(input as GuestOptionsInput);
  } catch (e) {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    return e;
  }
  assert.fail(`accepted bad options ${JSON.stringify(input)}`);
}

Deno.test("guest options: defaults are a 1-vCPU 256 MiB guest with networking and auto acceleration", () => {
  const o = parseGuestOptions({});
  assert.equal(o.name, "guest");
  assert.equal(o.cpus, 1);
  assert.equal(o.memoryMiB, 256);
  assert.equal(o.network.enabled, true);
  assert.equal(o.accel, "auto");
  assert.deepEqual(o.drives, []);
});

Deno.test("guest options: a full topology with NUMA, hotplug, drives, IOMMU and trace is accepted", () => {
  const o = parseGuestOptions({
    name: "numa-1",
    cpus: 2,
    maxCpus: 4,
    memoryMiB: 512,
    memoryHotplug: { slots: 2, maxMemoryMiB: 2048 },
    numa: [{ cpus: [0, 2], memoryMiB: 256 }, { cpus: [1, 3], memoryMiB: 256 }],
    drives: [{ file: "/tmp/disk.img" }, { nbd: "nbd://127.0.0.1:10809/swap" }],
    iommu: {},
    trace: { events: ["vtd_*"], file: "/tmp/trace.log" },
    network: { forwards: [{ guestPort: 8080 }] },
  });
  assert.equal(o.iommu?.deviceIotlb, true);
  assert.equal(o.drives[0] && "file" in o.drives[0] && o.drives[0].format, "raw");
});

Deno.test("guest options: bad inputs name the field and the expectation", () => {
  const cases: [unknown, string, RegExp][] = [
    [{ name: "Bad Name" }, "name", /lowercase/],
    [{ cpus: 0 }, "cpus", /expected/],
    [{ cpus: 2, maxCpus: 1 }, "maxCpus", /at least cpus \(2\)/],
    [{ memoryMiB: 256, memoryHotplug: { slots: 1, maxMemoryMiB: 256 } }, "memoryHotplug.maxMemoryMiB", /more than/],
    [{ memoryMiB: 256, numa: [{ cpus: [0], memoryMiB: 128 }] }, "numa", /adding up to memoryMiB \(256\), got 128/],
    [
      { cpus: 2, memoryMiB: 256, numa: [{ cpus: [0, 1], memoryMiB: 128 }, { cpus: [1], memoryMiB: 128 }] },
      "numa[1].cpus[0]",
      /one node only/,
    ],
    [{ cpus: 1, memoryMiB: 256, numa: [{ cpus: [0, 3], memoryMiB: 256 }] }, "numa[0].cpus[1]", /below 1/],
    [{ cpus: 2, memoryMiB: 256, numa: [{ cpus: [0], memoryMiB: 256 }] }, "numa", /vCPU 1 is in none/],
    [{ drives: [{ nbd: "http://x/y" }] }, "drives[0].nbd", /an NBD URL/],
    [{ drives: [{ file: "relative.img" }] }, "drives[0].file", /absolute path/],
    [{ network: { forwards: [{ guestPort: 22 }] } }, "network.forwards[0].guestPort", /other than 22/],
    [{ network: { sshPort: 70000 } }, "network.sshPort", /./],
    [{ kernelArgs: ["a b"] }, "kernelArgs[0]", /without spaces/],
    [{ trace: { events: [], file: "/tmp/t" } }, "trace.events", /./],
    [{ accel: "hvf" }, "accel", /./],
    [{ vcpus: 2 }, "(root)", /vcpus/],
  ];
  for (const [input, field, expected] of cases) {
    const e = badField(input);
    assert.equal(e.field, field, `field for ${JSON.stringify(input)}: ${e.message}`);
    assert.match(e.message, expected, e.message);
  }
});

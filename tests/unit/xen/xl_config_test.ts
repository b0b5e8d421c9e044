/** xl config model: writer/parser round trip, the seed systems' configs, and bad inputs naming the field. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import {
  parseXlConfig,
  parseXlConfigText,
  validateXlConfig,
  writeXlConfig,
  type XlConfig,
} from "../../../lib/xen/mod.ts";

const virtflex: XlConfig = {
  name: "ubu-pv0",
  type: "pvh",
  memory: 8192,
  vcpus: 8,
  kernel: "/boot/vmlinuz-4.19-virtflex",
  cmdline: 'root=/dev/xvda1 console=hvc0 quiet "x"',
  disk: ["phy:/dev/vg/ubu0,xvda,w"],
  vif: ["bridge=xenbr0,mac=00:16:3e:00:00:01"],
  vnuma: [
    { pnode: 0, size: 4096, vcpus: "0-3", vdistances: [10, 20] },
    { pnode: 1, size: 4096, vcpus: "4-7", vdistances: [20, 10] },
  ],
  on_crash: "preserve",
  extra: { serial: "pty", videoram: 8, pci: ["01:00.0"] },
};

Deno.test("xl config: write then parse gives the same config", () => {
  const text = writeXlConfig(virtflex);
  assert.match(text, /^vnuma = \[ \[ "pnode=0", "size=4096", "vcpus=0-3", "vdistances=10,20" \], /m);
  assert.deepEqual(parseXlConfig(text), virtflex);
  const nephele: XlConfig = {
    name: "unikraft-cloning-app",
    memory: 32,
    vcpus: 1,
    cpus: "2-3",
    kernel: "cloning-apps_xen-x86_64",
    max_clones: 2,
    skip_cloning: ["network", "9pfs"],
    cmdline: " -- -a measure-fork -m 16MB",
  };
  const t2 = writeXlConfig(nephele);
  assert.match(t2, /^max_clones = "2"$/m);
  assert.match(t2, /^skip_cloning = "network;9pfs"$/m);
  assert.deepEqual(parseXlConfig(t2), nephele);
});

Deno.test("xl config: parses Nephele's published example (quoted numbers, single quotes, comments)", () => {
  const text = `# from nephele-vm/experiments
name = "unikraft-cloning-app"
kernel = "cloning-apps_xen-x86_64"
memory = "32"
vcpus = "1"
cpus = "2-3"
on_crash = "preserve"
vif = [ 'mac=aa:bb:cc:06:06:02,ip=10.8.0.2 255.255.255.0 10.8.0.1,bridge=bond0' ]
max_clones = "2"
cmdline = " -- -a measure-fork -m 16MB"
`;
  const c = parseXlConfig(text);
  assert.equal(c.memory, 32);
  assert.equal(c.max_clones, 2);
  assert.deepEqual(c.vif, ["mac=aa:bb:cc:06:06:02,ip=10.8.0.2 255.255.255.0 10.8.0.1,bridge=bond0"]);
  assert.deepEqual(parseXlConfigText("a = 0x10; b = [ ]\n"), { a: 16, b: [] });
});

Deno.test("xl config: bad inputs are InputErrors naming the field", () => {
  const field = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e) => e instanceof InputError && re.test(e.field), String(fn));
  field(() => validateXlConfig({ ...virtflex, memory: 9000 }), /^vnuma$/);
  field(() => validateXlConfig({ ...virtflex, name: "bad name" }), /^name$/);
  field(
    () => validateXlConfig({ ...virtflex, vnuma: [virtflex.vnuma![0], { ...virtflex.vnuma![1], vdistances: [20] }] }),
    /^vnuma\[1\]\.vdistances$/,
  );
  field(
    () => validateXlConfig({ ...virtflex, vnuma: [virtflex.vnuma![0], { ...virtflex.vnuma![1], vcpus: "3-7" }] }),
    /^vnuma\[1\]\.vcpus$/,
  );
  field(() => validateXlConfig({ ...virtflex, vcpus: 0 }), /^vcpus$/);
  field(() => validateXlConfig({ ...virtflex, bogus: 1 }), /^\(root\)$|bogus/);
  field(() => validateXlConfig({ ...virtflex, skip_cloning: ["disks"] }), /^skip_cloning\[0\]$/);
  field(() => parseXlConfigText('name = "x\nmemory = 1'), /^xl config:1$/);
  field(() => parseXlConfigText("name = \nmemory = 1"), /^xl config:1$/);
  field(() => parseXlConfig('name = "a"\nmemory = "lots"\nvcpus = 1'), /memory/);
});

import assert from "node:assert/strict";
import { buildQemuArgv, cpuRanges, kernelCommandLine, type QemuRuntime } from "../../../lib/lab/qemu_argv.ts";
import { parseGuestOptions } from "../../../lib/lab/qemu_options.ts";

const rt: QemuRuntime = {
  kernel: "/k/vmlinux",
  initrd: "/k/initrd.gz",
  qmpSocket: "/run/g/qmp.sock",
  traceEventsFile: "/run/g/events",
  sshPort: 40022,
  forwardPorts: [40080],
  accel: "tcg",
};

function valueAfter(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => a === flag ? [argv[i + 1]] : []);
}

Deno.test("qemu argv: vCPU slots, memory slots, NUMA nodes with their memory backends", () => {
  const o = parseGuestOptions({
    cpus: 2,
    maxCpus: 4,
    memoryMiB: 512,
    memoryHotplug: { slots: 2, maxMemoryMiB: 1024 },
    numa: [{ cpus: [0, 1], memoryMiB: 384 }, { cpus: [3, 2], memoryMiB: 128 }],
  });
  const a = buildQemuArgv(o, rt);
  assert.deepEqual(valueAfter(a, "-smp"), ["cpus=2,maxcpus=4"]);
  assert.deepEqual(valueAfter(a, "-m"), ["size=512M,slots=2,maxmem=1024M"]);
  assert.deepEqual(valueAfter(a, "-object"), [
    "memory-backend-ram,id=numa-mem0,size=384M",
    "memory-backend-ram,id=numa-mem1,size=128M",
  ]);
  assert.deepEqual(valueAfter(a, "-numa"), [
    "node,nodeid=0,cpus=0-1,memdev=numa-mem0",
    "node,nodeid=1,cpus=2-3,memdev=numa-mem1",
  ]);
  assert.deepEqual(valueAfter(a, "-accel"), ["tcg"]);
  assert.deepEqual(valueAfter(a, "-cpu"), ["max"]);
});

Deno.test("qemu argv: loopback-only forwards, QMP socket, console on stdio, kernel and initrd", () => {
  const o = parseGuestOptions({ name: "g1", network: { forwards: [{ guestPort: 80 }] } });
  const a = buildQemuArgv(o, rt);
  assert.deepEqual(valueAfter(a, "-netdev"), [
    "user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22,hostfwd=tcp:127.0.0.1:40080-:80",
  ]);
  assert.ok(valueAfter(a, "-device").includes("virtio-net-pci,netdev=net0"));
  assert.deepEqual(valueAfter(a, "-qmp"), ["unix:/run/g/qmp.sock,server=on,wait=off"]);
  assert.deepEqual(valueAfter(a, "-kernel"), ["/k/vmlinux"]);
  assert.deepEqual(valueAfter(a, "-initrd"), ["/k/initrd.gz"]);
  assert.match(valueAfter(a, "-append")[0], /console=ttyS0 .*hyperlab\.name=g1/);
  assert.ok(a.includes("-no-reboot") && a.includes("-nodefaults"));
  const off = buildQemuArgv(parseGuestOptions({ network: { enabled: false } }), rt);
  assert.deepEqual(valueAfter(off, "-netdev"), []);
});

Deno.test("qemu argv: intel-iommu with device IOTLB comes before the devices, which get ATS", () => {
  const o = parseGuestOptions({ iommu: {}, drives: [{ nbd: "nbd://127.0.0.1:10809/exp", readOnly: true }] });
  const a = buildQemuArgv(o, rt);
  assert.deepEqual(valueAfter(a, "-M"), ["q35,kernel-irqchip=split"]);
  const devices = valueAfter(a, "-device");
  assert.equal(devices[0], "intel-iommu,device-iotlb=on,intremap=on");
  assert.equal(devices[1], "virtio-net-pci,netdev=net0,disable-legacy=on,iommu_platform=on,ats=on");
  assert.equal(devices[2], "virtio-blk-pci,drive=drive0,disable-legacy=on,iommu_platform=on,ats=on");
  assert.deepEqual(valueAfter(a, "-drive"), [
    "file=nbd://127.0.0.1:10809/exp,format=raw,if=none,id=drive0,readonly=on",
  ]);
  assert.match(kernelCommandLine(o), /intel_iommu=on/);
});

Deno.test("qemu argv: trace events file, extra kernel args and KVM mode", () => {
  const o = parseGuestOptions({
    trace: { events: ["vtd_*"], file: "/tmp/t.log" },
    kernelArgs: ["loglevel=7"],
    extraArgs: ["-S"],
  });
  const a = buildQemuArgv(o, { ...rt, accel: "kvm" });
  assert.deepEqual(valueAfter(a, "-trace"), ["events=/run/g/events,file=/tmp/t.log"]);
  assert.match(valueAfter(a, "-append")[0], /loglevel=7$/);
  assert.deepEqual(valueAfter(a, "-cpu"), ["host"]);
  assert.equal(a.at(-1), "-S");
});

Deno.test("qemu argv: cpu ranges compact sorted indexes", () => {
  assert.deepEqual(cpuRanges([0]), ["0"]);
  assert.deepEqual(cpuRanges([3, 0, 1, 2]), ["0-3"]);
  assert.deepEqual(cpuRanges([0, 2, 3, 5]), ["0", "2-3", "5"]);
});

import assert from "node:assert/strict";
import {
  checkLkvmArgvOrder,
  guestCmdline,
  lkvmArgv,
  type LkvmLaunch,
  resolveLayout,
  tasksetMask,
} from "../../../lib/fragvisor/mod.ts";

const base = (vcpus: number[], n: number): LkvmLaunch => ({
  lkvm: "/root/fragvisor-kvmtool/lkvm",
  layout: resolveLayout(vcpus, n),
  memoryMb: 32768,
  ramdisk: "/root/ramdisk.gz",
  kernel: "/root/fragvisor-linux/arch/x86/boot/bzImage",
  guestIp: "10.4.4.222",
  hostIp: "10.4.4.221",
  guestMac: "00:11:22:33:44:55",
  tap: "tap0",
});

Deno.test("run.sh's command line for 4 nodes x 1 vCPU", () => {
  assert.deepEqual(lkvmArgv(base([1], 4)), [
    "/root/fragvisor-kvmtool/lkvm",
    "run",
    ...["-a", "1", "-b", "1", "-x", "1", "-y", "1", "-w", "4"],
    ...["-i", "/root/ramdisk.gz", "-k", "/root/fragvisor-linux/arch/x86/boot/bzImage", "-m", "32768", "-c", "4"],
    "-p",
    "root=/dev/ram rw init=/init2 fstype=ext4 spectre_v2=off nopti pti=off numa=fake=4 percpu_alloc=page " +
    "-no-kvm-pit-reinjection clocksource=tsc",
    "--network",
    "mode=tap,vhost=1,guest_ip=10.4.4.222,host_ip=10.4.4.221,guest_mac=00:11:22:33:44:55",
  ]);
});

Deno.test("uneven layout over 9 nodes: every flag, -w = non-zero nodes, -c = sum, numa=fake = -w, owners", () => {
  const l = base([2, 0, 1, 1, 1, 1, 1, 1, 3], 9);
  const argv = lkvmArgv({ ...l, tap: "tap7", extraCmdline: "quiet  loglevel=3" });
  const flags = argv.slice(2, 20);
  assert.deepEqual(flags, [
    "-a",
    "2",
    "-b",
    "0",
    "-x",
    "1",
    "-y",
    "1",
    "-z",
    "1",
    "-q",
    "1",
    "-r",
    "1",
    "-s",
    "1",
    "-t",
    "3",
  ]);
  assert.equal(argv[argv.indexOf("-w") + 1], "8");
  assert.equal(argv[argv.indexOf("-c") + 1], "11");
  assert.match(argv[argv.indexOf("-p") + 1], /numa=fake=8 .* clocksource=tsc quiet loglevel=3$/);
  assert.match(argv.at(-1)!, /^mode=tap,vhost=1,tapif=tap7,/);
  assert.deepEqual(l.layout.owner, [0, 0, 2, 3, 4, 5, 6, 7, 8, 8, 8]);
  assert.deepEqual([0, 1, 3, 10].map(tasksetMask), ["0x1", "0x2", "0x8", "0x400"]);
});

Deno.test("argv-order gotcha: a per-node flag last on a long command line is refused", () => {
  const good = lkvmArgv(base([1], 2));
  const moved = [good[0], good[1], ...good.slice(6), "-a", "1", "-b", "1"];
  assert.ok(moved.length > 12);
  assert.throws(() => checkLkvmArgvOrder(moved), /lkvm argv: expected per-node flags .* before the other options/);
  checkLkvmArgvOrder(["/x/lkvm", "run", "-i", "r", "-a", "1"]); // short: fine
});

Deno.test("bad inputs: vcpus count, origin with 0, out of range, console=ttyS0, numa=fake, memory", () => {
  assert.throws(
    () => resolveLayout([1, 1], 3),
    /--vcpus: expected one value, or 3 values \(one per node in inventory order\)/,
  );
  assert.throws(() => resolveLayout([0, 1], 2), /--vcpus\[0\]: expected at least 1 \(the origin runs vCPU 0\)/);
  assert.throws(() => resolveLayout([1, 65], 2), /--vcpus\[1\]: expected an integer 0..64/);
  const l = resolveLayout([1], 2);
  assert.throws(
    () => guestCmdline(l, "console=ttyS0"),
    /--extra-cmdline: expected no console=ttyS\* \(it crashes Popcorn guests\)/,
  );
  assert.throws(() => guestCmdline(l, "numa=fake=3"), /--extra-cmdline: expected no numa=fake=/);
  assert.throws(() => lkvmArgv({ ...base([1], 2), memoryMb: 0 }), /--memory-mb: expected a positive integer/);
});

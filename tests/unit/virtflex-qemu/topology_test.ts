/** The guest's NUMA view: CPU lists, sysfs snapshots, confirmation of a change, and DIMM memory blocks. */
import assert from "node:assert/strict";
import {
  confirmChange,
  dimmBlocks,
  type GuestTopology,
  parseCpuList,
  parseSnapshot,
  SNAPSHOT_COMMAND,
} from "../../../lib/virtflex/mod.ts";
import { tempDir } from "../../_helpers.ts";

Deno.test("cpu lists: ranges, singles, empty; garbage is refused", () => {
  assert.deepEqual(parseCpuList("0-2,5,7-8\n"), [0, 1, 2, 5, 7, 8]);
  assert.deepEqual(parseCpuList("1"), [1]);
  assert.deepEqual(parseCpuList("\n"), []);
  assert.throws(() => parseCpuList("1-x"), /not a CPU list/);
});

// What the guest printed in a real run (expanded node 1).
const EXPANDED = "node0|0|211068\nnode1|1-2|321964\nonline|0-2\nblock|8000000\n";

Deno.test("snapshot: parses the guest's node lines, online CPUs and block size", () => {
  assert.deepEqual(parseSnapshot(EXPANDED), {
    nodes: [{ node: 0, cpus: [0], memTotalKiB: 211068 }, { node: 1, cpus: [1, 2], memTotalKiB: 321964 }],
    online: [0, 1, 2],
    blockBytes: 128 << 20,
  });
  assert.deepEqual(parseSnapshot("node1||1000\nblock|8000000").nodes, [{ node: 1, cpus: [], memTotalKiB: 1000 }]);
  assert.throws(() => parseSnapshot("online|0\nblock|8000000"), /no NUMA node/);
  assert.throws(() => parseSnapshot("node0|0|\nblock|8000000"), /no MemTotal for node0/);
  assert.throws(() => parseSnapshot("node0|0|5"), /no memory block size/);
});

Deno.test("snapshot: the shell command reads a sysfs-shaped tree into that format", async () => {
  using tmp = tempDir();
  const sys = `${tmp.path}/sys`;
  for (const [n, cpus, kib] of [[0, "0", 211068], [1, "1-2", 321964]] as const) {
    Deno.mkdirSync(`${sys}/devices/system/node/node${n}`, { recursive: true });
    Deno.writeTextFileSync(`${sys}/devices/system/node/node${n}/cpulist`, `${cpus}\n`);
    Deno.writeTextFileSync(
      `${sys}/devices/system/node/node${n}/meminfo`,
      `Node ${n} MemTotal:       ${kib} kB\nNode ${n} MemFree:        1 kB\n`,
    );
  }
  Deno.mkdirSync(`${sys}/devices/system/cpu`, { recursive: true });
  Deno.mkdirSync(`${sys}/devices/system/memory`, { recursive: true });
  Deno.writeTextFileSync(`${sys}/devices/system/cpu/online`, "0-2\n");
  Deno.writeTextFileSync(`${sys}/devices/system/memory/block_size_bytes`, "8000000\n");
  const out = await new Deno.Command("sh", {
    args: ["-c", SNAPSHOT_COMMAND.replaceAll("/sys/", `${sys}/`)],
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  assert.equal(new TextDecoder().decode(out.stdout), EXPANDED);
});

const before: GuestTopology = parseSnapshot("node0|0|211068\nnode1|1|190892\nonline|0-1\nblock|8000000");
const expanded = parseSnapshot(EXPANDED);

Deno.test("confirm: an expand shows exactly the new CPU and the DIMM on the node, nothing elsewhere", () => {
  confirmChange(before, expanded, { action: "expand", node: 1, cpus: [2], memKiB: 131072 }, "expand");
  confirmChange(expanded, before, { action: "shrink", node: 1, cpus: [2], memKiB: 131072 }, "shrink");
  assert.throws(
    () => confirmChange(before, before, { action: "expand", node: 1, cpus: [2], memKiB: 0 }, "expand"),
    /expand: the guest does not show it: CPU 2 is not in node1\/cpulist \(1\)/,
  );
  assert.throws(
    () => confirmChange(before, expanded, { action: "expand", node: 1, cpus: [2], memKiB: 262144 }, "expand"),
    /node1 MemTotal moved by 131072 KiB \(190892 → 321964\), expected 262144/,
  );
  assert.throws(
    () => confirmChange(expanded, expanded, { action: "shrink", node: 1, cpus: [2], memKiB: 0 }, "shrink"),
    /CPU 2 is still in node1\/cpulist/,
  );
  const elsewhere = parseSnapshot("node0|0,2|211068\nnode1|1|321964\nonline|0-2\nblock|8000000");
  assert.throws(
    () => confirmChange(before, elsewhere, { action: "expand", node: 1, cpus: [2], memKiB: 131072 }, "expand"),
    /CPU 2 is not in node1\/cpulist/,
  );
  const extra = parseSnapshot("node0|0|211068\nnode1|1-3|321964\nonline|0-3\nblock|8000000");
  assert.throws(
    () => confirmChange(before, extra, { action: "expand", node: 1, cpus: [2], memKiB: 131072 }, "expand"),
    /node1\/cpulist is 1,2,3, expected 1,2/,
  );
  const node0Changed = parseSnapshot("node0|0|100000\nnode1|1-2|321964\nonline|0-2\nblock|8000000");
  assert.throws(
    () => confirmChange(before, node0Changed, { action: "expand", node: 1, cpus: [2], memKiB: 131072 }, "expand"),
    /node0 changed too/,
  );
  assert.throws(
    () => confirmChange(before, expanded, { action: "expand", node: 3, cpus: [], memKiB: 0 }, "expand"),
    /the guest has no node3/,
  );
});

Deno.test("DIMM blocks: whole blocks from QEMU's address and size, else an error", () => {
  assert.deepEqual(dimmBlocks(4 * 1024 ** 3, 128 << 20, 128 << 20), [32]);
  assert.deepEqual(dimmBlocks(4 * 1024 ** 3, 256 << 20, 128 << 20), [32, 33]);
  assert.throws(() => dimmBlocks(4 * 1024 ** 3 + 4096, 128 << 20, 128 << 20), /not whole memory blocks/);
  assert.throws(() => dimmBlocks(0, 64 << 20, 128 << 20), /not whole memory blocks/);
  assert.throws(() => dimmBlocks(0, 128 << 20, 0), /not whole memory blocks/);
});

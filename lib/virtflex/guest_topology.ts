/**
 * The guest's own view of its NUMA topology, read from /sys/devices/system/node (nodeN/cpulist, nodeN/meminfo
 * MemTotal), and the checks that a change really reached it. Parsing is pure; the shell that collects it is
 * {@link SNAPSHOT_COMMAND}.
 * @module
 */
import { HyperlabError } from "../core/errors.ts";

/** One guest NUMA node as the guest sees it. */
export interface GuestNode {
  node: number;
  /** Online vCPUs of the node (Linux CPU numbers), from nodeN/cpulist. */
  cpus: number[];
  /** nodeN/meminfo MemTotal, KiB. */
  memTotalKiB: number;
}

/** The guest's topology at one moment. */
export interface GuestTopology {
  nodes: GuestNode[];
  /** /sys/devices/system/cpu/online. */
  online: number[];
  /** /sys/devices/system/memory/block_size_bytes. */
  blockBytes: number;
}

/** Shell run in the guest to collect a {@link GuestTopology} (one `node|cpulist|MemTotal` line per node). */
export const SNAPSHOT_COMMAND = [
  "for d in /sys/devices/system/node/node[0-9]*; do",
  '  echo "${d##*/}|$(cat $d/cpulist)|$(sed -n "s/.*MemTotal: *\\([0-9]*\\).*/\\1/p" $d/meminfo)";',
  "done;",
  'echo "online|$(cat /sys/devices/system/cpu/online)";',
  'echo "block|$(cat /sys/devices/system/memory/block_size_bytes)"',
].join("\n");

/** Parses a Linux CPU list such as `0-2,5` (empty: none). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",").filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new HyperlabError("virtflex-qemu", `not a CPU list: ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** Parses the output of {@link SNAPSHOT_COMMAND}. */
export function parseSnapshot(text: string): GuestTopology {
  const nodes: GuestNode[] = [];
  let online: number[] = [];
  let blockBytes = 0;
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const [key, a, b] = line.split("|");
    const node = /^node(\d+)$/.exec(key);
    if (node) {
      if (!/^\d+$/.test(b ?? "")) {
        throw new HyperlabError("virtflex-qemu", `no MemTotal for ${key} in the guest's snapshot: ${line}`);
      }
      nodes.push({ node: Number(node[1]), cpus: parseCpuList(a ?? ""), memTotalKiB: Number(b) });
    } else if (key === "online") online = parseCpuList(a ?? "");
    else if (key === "block") blockBytes = parseInt(a ?? "", 16);
  }
  if (!nodes.length) throw new HyperlabError("virtflex-qemu", `no NUMA node in the guest's snapshot:\n${text}`);
  if (!(blockBytes > 0)) throw new HyperlabError("virtflex-qemu", `no memory block size in the snapshot:\n${text}`);
  return { nodes: nodes.sort((x, y) => x.node - y.node), online, blockBytes };
}

function nodeOf(t: GuestTopology, node: number, when: string): GuestNode {
  const n = t.nodes.find((x) => x.node === node);
  if (!n) throw new HyperlabError("virtflex-qemu", `${when}: the guest has no node${node} in /sys/devices/system/node`);
  return n;
}

/** What one change should have done to the guest's node. */
export interface ExpectedChange {
  action: "expand" | "shrink";
  node: number;
  /** Linux CPUs that must have joined (expand) or left (shrink) the node's cpulist. */
  cpus: number[];
  /** Memory added (expand) or removed (shrink) on the node, KiB. */
  memKiB: number;
}

/** Slack allowed on MemTotal (KiB): the kernel may keep a few pages of a block for itself. */
export const MEM_SLACK_KIB = 4096;

/**
 * Throws unless `after` differs from `before` exactly by `change` on its node (CPUs in or out of nodeN/cpulist,
 * MemTotal moved by the DIMM size within {@link MEM_SLACK_KIB}) and every other node is unchanged.
 */
export function confirmChange(before: GuestTopology, after: GuestTopology, change: ExpectedChange, what: string): void {
  const b = nodeOf(before, change.node, what);
  const a = nodeOf(after, change.node, what);
  const fail = (msg: string) => {
    throw new HyperlabError("virtflex-qemu", `${what}: the guest does not show it: ${msg}`);
  };
  const grow = change.action === "expand";
  for (const c of change.cpus) {
    if (grow && !a.cpus.includes(c)) fail(`CPU ${c} is not in node${change.node}/cpulist (${a.cpus.join(",")})`);
    if (!grow && a.cpus.includes(c)) fail(`CPU ${c} is still in node${change.node}/cpulist (${a.cpus.join(",")})`);
  }
  const expectCpus = grow ? [...b.cpus, ...change.cpus] : b.cpus.filter((c) => !change.cpus.includes(c));
  if (expectCpus.sort((x, y) => x - y).join(",") !== a.cpus.join(",")) {
    fail(`node${change.node}/cpulist is ${a.cpus.join(",") || "empty"}, expected ${expectCpus.join(",") || "empty"}`);
  }
  const delta = a.memTotalKiB - b.memTotalKiB;
  const want = grow ? change.memKiB : -change.memKiB;
  if (Math.abs(delta - want) > MEM_SLACK_KIB) {
    fail(`node${change.node} MemTotal moved by ${delta} KiB (${b.memTotalKiB} → ${a.memTotalKiB}), expected ${want}`);
  }
  for (const o of before.nodes.filter((n) => n.node !== change.node)) {
    const now = nodeOf(after, o.node, what);
    if (now.cpus.join(",") !== o.cpus.join(",") || Math.abs(now.memTotalKiB - o.memTotalKiB) > MEM_SLACK_KIB) {
      fail(
        `node${o.node} changed too (cpus ${o.cpus.join(",")} → ${now.cpus.join(",")}, ` +
          `MemTotal ${o.memTotalKiB} → ${now.memTotalKiB} KiB)`,
      );
    }
  }
}

/** Memory block numbers (/sys/devices/system/memory/memoryN) covering a DIMM at `addr` of `size` bytes. */
export function dimmBlocks(addr: number, size: number, blockBytes: number): number[] {
  if (!(blockBytes > 0) || addr % blockBytes !== 0 || size % blockBytes !== 0 || size <= 0) {
    throw new HyperlabError(
      "virtflex-qemu",
      `DIMM at 0x${addr.toString(16)} (${size} bytes) is not whole memory blocks of ${blockBytes} bytes`,
    );
  }
  const first = addr / blockBytes;
  return Array.from({ length: size / blockBytes }, (_, i) => first + i);
}

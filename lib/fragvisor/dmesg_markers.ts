/**
 * The messaging layer's kernel-log markers (`msg_layer/rdma.c`): `popcorn: Ready on InfiniBand RDMA`, one
 * `popcorn:    <nid> joined, x86_64` per peer, `popcorn: My IP is not listed in the node configuration` and
 * `popcorn: Unable to <step>, <ip> - …`. Parsing, and the cluster-wide join check that names missing peers.
 * @module
 */

/** The `popcorn:` lines of a kernel log after the first `skip` of them (lines logged before the current load). */
export function popcornLines(text: string, skip = 0): string {
  return text.split(/\r?\n/).filter((l) => l.includes("popcorn:")).slice(skip).join("\n");
}

/** A failure line: `popcorn: Unable to <step>, <ip> - <detail>`. */
export interface MsgFailure {
  step: string;
  ip: string;
  detail: string;
}

/** What one node's kernel log says about the messaging layer. */
export interface MsgLayerState {
  /** `Ready on InfiniBand RDMA` seen. */
  ready: boolean;
  /** nids of peers that joined. */
  joined: number[];
  /** `My IP is not listed in the node configuration` seen. */
  ipNotListed: boolean;
  failures: MsgFailure[];
}

const TS = /^\s*(?:<\d+>)?(?:\[\s*\d+\.\d+\]\s*)?/;

/**
 * Parses `dmesg` output (with or without timestamps and levels). Lines from before the current load must be cut
 * off by the caller (see `popcornLines`).
 */
export function parseDmesg(text: string): MsgLayerState {
  const s: MsgLayerState = { ready: false, joined: [], ipNotListed: false, failures: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(TS, "");
    if (!line.startsWith("popcorn:")) continue;
    const body = line.slice("popcorn:".length);
    let m: RegExpExecArray | null;
    if (/^\s*Ready on InfiniBand RDMA/.test(body)) s.ready = true;
    else if ((m = /^\s*(\d+) joined, (\S+)/.exec(body))) {
      const nid = Number(m[1]);
      if (!s.joined.includes(nid)) s.joined.push(nid);
    } else if (/^\s*My IP is not listed/.test(body)) s.ipNotListed = true;
    else if ((m = /^\s*Unable to ([^,]+),\s*(\S+)\s*-?\s*(.*)$/.exec(body))) {
      s.failures.push({ step: m[1].trim(), ip: m[2], detail: m[3].trim() });
    }
  }
  s.joined.sort((a, b) => a - b);
  return s;
}

/** One node's standing in the cluster-wide join. */
export interface NodeJoin {
  node: string;
  nid: number;
  ready: boolean;
  /** Peers (by name) whose `joined` line is missing. */
  missingPeers: string[];
  ipNotListed: boolean;
  failures: MsgFailure[];
}

/** The join across the cluster: complete when every node is ready with N−1 peers joined. */
export interface JoinStatus {
  complete: boolean;
  nodes: NodeJoin[];
  /** Nodes that are not complete. */
  pending: string[];
}

/** Checks every node's state against the node list (index = nid). */
export function joinStatus(names: readonly string[], states: readonly (MsgLayerState | undefined)[]): JoinStatus {
  const nodes = names.map((node, nid): NodeJoin => {
    const s = states[nid] ?? { ready: false, joined: [], ipNotListed: false, failures: [] };
    const missingPeers = names.filter((_, peer) => peer !== nid && !s.joined.includes(peer));
    return { node, nid, ready: s.ready, missingPeers, ipNotListed: s.ipNotListed, failures: s.failures };
  });
  const pending = nodes.filter((n) => !n.ready || n.missingPeers.length > 0).map((n) => n.node);
  return { complete: pending.length === 0, nodes, pending };
}

/** One line per unfinished node: what is missing and why (for timeout errors). */
export function describeJoin(status: JoinStatus): string {
  return status.nodes.filter((n) => status.pending.includes(n.node)).map((n) => {
    const parts = [n.ready ? "ready" : "not ready"];
    if (n.missingPeers.length) parts.push(`peers not joined: ${n.missingPeers.join(", ")}`);
    if (n.ipNotListed) parts.push("its IP is not listed in msg_layer/config.h (My IP is not listed)");
    for (const f of n.failures) parts.push(`Unable to ${f.step}, ${f.ip}${f.detail ? ` - ${f.detail}` : ""}`);
    return `  ${n.node} (nid ${n.nid}): ${parts.join("; ")}`;
  }).join("\n");
}

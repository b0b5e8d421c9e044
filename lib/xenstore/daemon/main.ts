/**
 * `deno task xenstored [--socket PATH] [--domain DOMID=PATH ...] [--virtflex-guest SPEC ...] [--balloon-double]`:
 * runs the embedded xenstored in the foreground until Ctrl-C. Point Xen's tools at it with
 * `XENSTORED_PATH=PATH xenstore-ls`.
 *
 * `--virtflex-guest 3:ubu-pv0:2x4096:2` also lays out domain 3 as Virtflex's libxl would (name ubu-pv0, 2 virtual
 * NUMA nodes of 4096 MB, 2 vCPUs each) with a domain socket at PATH.dom3; `--balloon-double` then answers its
 * topology changes with the balloon-driver TEST DOUBLE (lib/xenstore/testing), so the virtflex/topo-change playbook
 * can be tried end to end on a machine without Xen. Runs against it say so in their results.
 * @module
 */
import { parseArgs } from "node:util";
import { InputError } from "../../core/errors.ts";
import { writeVirtflexLayout } from "../../xen/virtflex.ts";
import { BalloonDriverDouble } from "../testing/balloon_double.ts";
import { XsWireClient } from "../wire_client.ts";
import { EmbeddedXenstored } from "./server.ts";
import { exitOnStopSignal } from "../../core/stop_signals.ts";

/** Default socket of the standalone daemon. */
export const DEFAULT_SOCKET = "/tmp/hyperlab-xenstored.sock";

/** A parsed `--virtflex-guest` spec. */
export interface VirtflexGuestSpec {
  domid: number;
  name: string;
  nodes: number;
  mbPerNode: number;
  vcpusPerNode: number;
}

/** Parses `DOMID:NAME:NODESxMB:VCPUS` (e.g. `3:ubu-pv0:2x4096:2`). Throws InputError naming the flag. */
export function parseVirtflexGuest(spec: string): VirtflexGuestSpec {
  const m = /^(\d{1,5}):([A-Za-z0-9][A-Za-z0-9_.-]*):(\d{1,2})x(\d{1,7}):(\d{1,3})$/.exec(spec);
  const v = m && { domid: +m[1], name: m[2], nodes: +m[3], mbPerNode: +m[4], vcpusPerNode: +m[5] };
  if (!v || v.domid < 1 || v.domid > 0x7fef || !v.nodes || !v.mbPerNode || !v.vcpusPerNode) {
    throw new InputError("--virtflex-guest", "DOMID:NAME:NODESxMB:VCPUS_PER_NODE like 3:ubu-pv0:2x4096:2", spec);
  }
  return v;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      socket: { type: "string", default: DEFAULT_SOCKET },
      domain: { type: "string", multiple: true, default: [] },
      "virtflex-guest": { type: "string", multiple: true, default: [] },
      "balloon-double": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
  });
  const guests = values["virtflex-guest"].map(parseVirtflexGuest);
  const domains = values.domain.map((spec) => {
    const m = /^(\d+)=(.+)$/.exec(spec);
    if (!m) throw new InputError("--domain", "DOMID=SOCKET_PATH", spec);
    return { domid: Number(m[1]), path: m[2] };
  });
  const daemon = await EmbeddedXenstored.start({
    socketPath: values.socket,
    log: values.verbose ? (l) => console.error(l) : undefined,
  });
  for (const d of domains) {
    await daemon.listenDomain(d.domid, d.path);
    console.error(`xenstored: domain ${d.domid} on ${d.path}`);
  }
  const doubles: BalloonDriverDouble[] = [];
  for (const g of guests) {
    const path = `${values.socket}.dom${g.domid}`;
    await daemon.listenDomain(g.domid, path);
    await using xs = await XsWireClient.connect(values.socket);
    await writeVirtflexLayout(xs, g.domid, {
      name: g.name,
      nodes: Array.from({ length: g.nodes }, (_, i) => ({
        pnode: i,
        sizeMb: g.mbPerNode,
        vcpus: Array.from({ length: g.vcpusPerNode }, (_, k) => i * g.vcpusPerNode + k),
      })),
    });
    console.error(`xenstored: Virtflex guest ${g.name} = domain ${g.domid} (${g.nodes}x${g.mbPerNode} MB) on ${path}`);
    if (values["balloon-double"]) {
      doubles.push(await BalloonDriverDouble.start({ socketPath: path }));
      console.error(`xenstored: domain ${g.domid} answered by the balloon-driver TEST DOUBLE (not a real guest)`);
    }
  }
  console.error(`xenstored: listening on ${values.socket} (XENSTORED_PATH=${values.socket}); Ctrl-C stops`);
  exitOnStopSignal(async () => {
    for (const d of doubles) await d.close();
    await daemon.close();
  });
}

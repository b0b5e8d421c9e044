/**
 * Virtflex's xenstore protocol (rice-systems/Virtflex, numa_scripts/xen_setup): the `numa/…` subtree its modified
 * libxl writes at domain creation, the per-node target formulas, and a reader of a domain's topology.
 * Paths, relative to `/local/domain/<D>`:
 * `numa/topo_change` (0 idle, 1 expand, 2 shrink; the guest's balloon driver resets it to 0),
 * `numa/node/<i>/{pnode,capacity,target}` (KiB), `numa/node/<i>/vcpu/<v> = online`, `cpu/<c>/availability`.
 * The older scripts wrote `memory/topo_change` and `memory/node/<n>/target`, which the released kernel ignores.
 * @module
 */
import { InputError } from "../core/errors.ts";
import type { XenstoreClient, XsPerm } from "../xenstore/mod.ts";

/** Home of a domain. */
export function domainHome(domid: number): string {
  return `/local/domain/${domid}`;
}

/** Every Virtflex path of one domain. */
export function virtflexPaths(domid: number) {
  const home = domainHome(domid);
  return {
    home,
    name: `${home}/name`,
    topoChange: `${home}/numa/topo_change`,
    topoVersion: `${home}/numa/topo_version`,
    nodes: `${home}/numa/node`,
    node: (n: number) => ({
      dir: `${home}/numa/node/${n}`,
      pnode: `${home}/numa/node/${n}/pnode`,
      capacity: `${home}/numa/node/${n}/capacity`,
      target: `${home}/numa/node/${n}/target`,
      vcpus: `${home}/numa/node/${n}/vcpu`,
    }),
    cpuAvailability: (c: number) => `${home}/cpu/${c}/availability`,
    cpus: `${home}/cpu`,
    legacy: {
      topoChange: `${home}/memory/topo_change`,
      nodes: `${home}/memory/node`,
      target: (n: number) => `${home}/memory/node/${n}/target`,
    },
  };
}

/** Expand target of a node in KiB: MB × 1024. */
export function expandTargetKiB(mb: number): number {
  positive(mb);
  return mb * 1024;
}

/**
 * Shrink target of a node in KiB: (80 + MB/1024 × 17) × 1024, with the shell's integer division
 * (151552 KiB for a 4096 MB node).
 */
export function shrinkTargetKiB(mb: number): number {
  positive(mb);
  return (80 + Math.floor(mb / 1024) * 17) * 1024;
}

function positive(mb: number): void {
  if (!Number.isInteger(mb) || mb <= 0) throw new InputError("sizeMb", "a node size in MB (positive integer)", mb);
}

/** One virtual NUMA node as xenstore shows it. */
export interface VirtflexNode {
  id: number;
  pnode?: number;
  capacityKiB?: number;
  targetKiB?: number;
  vcpus: number[];
}

/** A domain's topology as xenstore shows it. */
export interface VirtflexTopology {
  domid: number;
  /** `numa/topo_change`, or undefined when the numa subtree is absent. */
  topoChange?: string;
  topoVersion?: string;
  nodes: VirtflexNode[];
  /** vCPU → `cpu/<c>/availability` value. */
  availability: Record<number, string>;
  /** True when the older `memory/topo_change` or `memory/node` subtree exists. */
  legacySubtree: boolean;
}

const num = (s: string | undefined) => s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined;

/** Reads a domain's Virtflex state. */
export async function readTopology(xs: XenstoreClient, domid: number): Promise<VirtflexTopology> {
  const p = virtflexPaths(domid);
  const nodes: VirtflexNode[] = [];
  for (const id of ((await xs.list(p.nodes)) ?? []).map(Number).filter(Number.isInteger).sort((a, b) => a - b)) {
    const np = p.node(id);
    const vcpus = ((await xs.list(np.vcpus)) ?? []).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
    nodes.push({
      id,
      pnode: num(await xs.read(np.pnode)),
      capacityKiB: num(await xs.read(np.capacity)),
      targetKiB: num(await xs.read(np.target)),
      vcpus,
    });
  }
  const availability: Record<number, string> = {};
  for (const c of (await xs.list(p.cpus)) ?? []) {
    const v = await xs.read(p.cpuAvailability(Number(c)));
    if (v !== undefined && /^\d+$/.test(c)) availability[Number(c)] = v;
  }
  const legacySubtree = (await xs.read(p.legacy.topoChange)) !== undefined ||
    (await xs.list(p.legacy.nodes)) !== undefined;
  return {
    domid,
    topoChange: await xs.read(p.topoChange),
    topoVersion: await xs.read(p.topoVersion),
    nodes,
    availability,
    legacySubtree,
  };
}

/** One node of a layout to create. */
export interface LayoutNode {
  pnode: number;
  /** Memory of the node in MB. */
  sizeMb: number;
  vcpus: number[];
}

/**
 * Writes what Virtflex's modified libxl writes when it creates a domain: name, `cpu/<c>/availability = online`,
 * `numa/topo_change = 0`, per node pnode/capacity/target (KiB) and `vcpu/<v> = online`. The numa subtree is owned
 * by dom0 and readable by the guest, so the guest can reset `topo_change` only after the toolstack's chmod to `b`
 * (the failure mode the seed describes when the chmod is missing). For labs on the embedded xenstored.
 */
export async function writeVirtflexLayout(
  xs: XenstoreClient,
  domid: number,
  spec: { name: string; nodes: LayoutNode[] },
): Promise<void> {
  const p = virtflexPaths(domid);
  const guestOwns: XsPerm[] = [{ id: domid, access: "n" }];
  const guestReads: XsPerm[] = [{ id: 0, access: "n" }, { id: domid, access: "r" }];
  await xs.write(p.name, spec.name);
  await xs.setPerms(p.home, guestOwns);
  await xs.setPerms(p.name, guestReads);
  await xs.write(p.topoChange, "0");
  await xs.setPerms(`${p.home}/numa`, guestReads);
  await xs.setPerms(p.topoChange, guestReads);
  for (const [i, n] of spec.nodes.entries()) {
    const np = p.node(i);
    await xs.write(np.pnode, String(n.pnode));
    await xs.write(np.capacity, String(n.sizeMb * 1024));
    await xs.write(np.target, String(n.sizeMb * 1024));
    for (const v of n.vcpus) {
      await xs.write(`${np.vcpus}/${v}`, "online");
      await xs.write(p.cpuAvailability(v), "online");
      await xs.setPerms(`${p.cpus}/${v}`, guestReads);
      await xs.setPerms(p.cpuAvailability(v), guestReads);
    }
  }
}

/**
 * Topology changes on a running QEMU lab guest, each timed until the guest itself sees it: vCPU hot-add into a NUMA
 * node's slot (device_add), DIMM hot-add into a node (object-add + device_add pc-dimm), and their removal (the guest
 * offlines first, then device_del, then object-del). Every QMP command and guest command goes through the guests
 * library, so `--dry-run` lists them; timings come from in-guest watchers on the serial console
 * (see ./guest_watch.ts).
 * @module
 */
import { HyperlabError } from "../core/errors.ts";
import type { Guest } from "../lab/guests_mod.ts";
import { dimmBlocks, type GuestTopology, MEM_SLACK_KIB, parseSnapshot, SNAPSHOT_COMMAND } from "./guest_topology.ts";
import {
  cpuAddPhases,
  cpuOfflinePhase,
  detachedToConsole,
  gonePhase,
  installPreludeCommand,
  memPhase,
  phaseLine,
  PRELUDE_FILE,
  type WatchPhase,
  watchScript,
} from "./guest_watch.ts";
import { cpuDeviceType, expectedSlotProps, type TopoLayout } from "./qemu_layout.ts";
import { pickFreeSlot } from "./qemu_layout.ts";

/** Where QEMU 7.2's q35 puts the first DIMM when all boot RAM is below 4 GiB (dry-run plans only). */
export const EXPECTED_FIRST_DIMM_ADDR = 4 * 1024 ** 3;

/** A vCPU this driver plugged. */
export interface AddedCpu {
  /** QEMU device id. */
  id: string;
  /** Slot properties it was plugged with (socket/core/thread/node ids). */
  props: Record<string, number>;
  /** Linux CPU number the guest gave it (-1 in a dry run). */
  cpu: number;
  /** device_add → the cpuN directory exists in the guest, ms. */
  presentMs: number;
  /** device_add → onlined (by the guest, udev-style) and listed in nodeN/cpulist, ms. */
  nodeMs: number;
}

/** A DIMM this driver plugged. */
export interface AddedDimm {
  id: string;
  memdev: string;
  sizeMb: number;
  /** Guest-physical address QEMU chose. */
  addr: number;
  /** object-add + device_add → nodeN MemTotal grown by the DIMM, ms. */
  nodeMs: number;
}

/** Timings of one removal, ms from the request. */
export interface Removal {
  /**
   * Offline request → the guest's node no longer shows it. The request is an SSH command into the guest, so this
   * includes an SSH round trip (about 0.2–0.3 s under TCG here; the `read guest topology` step shows one).
   */
  offlineMs: number;
  /** device_del → QEMU's DEVICE_DELETED (the guest released it). */
  deletedMs: number;
  /** device_del → its sysfs directories are gone in the guest. */
  goneMs: number;
}

/** Options of a driver. */
export interface DriverOptions {
  /** Node to change. */
  node: number;
  /** Budget of one change, ms. */
  timeoutMs: number;
  /** In-guest polling interval, ms. */
  pollMs: number;
  /** Plan only (under `--dry-run`): no guest output to parse. */
  dry: boolean;
}

interface Timed<T> {
  phases: Record<string, { ms: number; report?: string }>;
  /** Trigger start → trigger resolved, ms. */
  triggerMs: number;
  value: T;
}

/** Drives topology changes on one guest's node. */
export class QemuTopoDriver {
  readonly #guest: Guest;
  readonly #layout: TopoLayout;
  readonly #o: DriverOptions;
  readonly #usedSlots = new Set<string>();
  #seq = 0;
  #dimmSeq = 0;
  #installed = false;

  constructor(guest: Guest, layout: TopoLayout, options: DriverOptions) {
    this.#guest = guest;
    this.#layout = layout;
    this.#o = options;
  }

  /** The guest's topology from /sys/devices/system/node (null in a dry run). */
  async snapshot(): Promise<GuestTopology | null> {
    const r = await this.#guest.exec(SNAPSHOT_COMMAND, { timeoutMs: 30_000 });
    if (this.#o.dry) return null;
    if (r.code !== 0) {
      throw new HyperlabError("virtflex-qemu", `reading the guest's topology failed: ${r.stderr.trim()}`);
    }
    return parseSnapshot(r.stdout);
  }

  /** Plugs one vCPU into a free slot of the node; the guest onlines it as soon as it appears (udev-style). */
  async addCpu(): Promise<AddedCpu> {
    const node = this.#o.node;
    let type = cpuDeviceType(this.#guest.accel.accel);
    let props: Record<string, number>;
    const slots = await this.#guest.qmp.queryHotpluggableCpus();
    if (this.#o.dry) {
      const slot = this.#layout.slots.find((s) => !s.boot && s.node === node && !this.#usedSlots.has(String(s.index)));
      if (!slot) throw new HyperlabError("virtflex-qemu", `node ${node} has no free vCPU slot left`);
      this.#usedSlots.add(String(slot.index));
      props = expectedSlotProps(slot);
    } else {
      const slot = pickFreeSlot(slots, node, this.#usedSlots);
      this.#usedSlots.add(JSON.stringify(slot.props));
      props = { ...slot.props } as Record<string, number>;
      type = slot.type;
    }
    const id = `vf-cpu-n${node}-s${props["socket-id"] ?? 0}c${props["core-id"] ?? 0}t${props["thread-id"] ?? 0}`;
    const t = await this.#timed(
      "cpu-add",
      cpuAddPhases(node),
      () => this.#guest.qmp.deviceAdd({ driver: type, id, ...props }),
    );
    const report = t.phases.node.report ?? "";
    const cpu = this.#o.dry ? -1 : Number(/^cpu(\d+)$/.exec(report)?.[1] ?? NaN);
    if (!this.#o.dry && !Number.isInteger(cpu)) {
      throw new HyperlabError("virtflex-qemu", `the guest's watcher reported ${JSON.stringify(report)}, not a cpuN`);
    }
    return { id, props, cpu, presentMs: t.phases.present.ms, nodeMs: t.phases.node.ms };
  }

  /** Plugs a DIMM of `sizeMb` into the node; the guest onlines it as movable memory (memhp_default_state). */
  async addDimm(sizeMb: number): Promise<AddedDimm> {
    const node = this.#o.node;
    const before = await this.#nodeMemKiB();
    const id = `vf-dimm-n${node}-${++this.#dimmSeq}`;
    const want = before + sizeMb * 1024 - MEM_SLACK_KIB;
    const t = await this.#timed(
      "mem-add",
      [memPhase("node", node, want, true)],
      () => this.#guest.qmp.hotplugMemory({ sizeMiB: sizeMb, node, id }),
    );
    let addr = EXPECTED_FIRST_DIMM_ADDR;
    const devices = await this.#guest.qmp.queryMemoryDevices();
    if (!this.#o.dry) {
      const dev = devices.find((d) => d.data.id === id);
      if (!dev || dev.data.addr === undefined) {
        throw new HyperlabError("virtflex-qemu", `query-memory-devices does not list DIMM ${id}`);
      }
      if (dev.data.node !== node) throw new HyperlabError("virtflex-qemu", `DIMM ${id} is on node ${dev.data.node}`);
      addr = dev.data.addr;
    }
    return { id, memdev: t.value.memdev, sizeMb, addr, nodeMs: t.phases.node.ms };
  }

  /**
   * Removes a DIMM: the guest offlines its memory blocks (movable zone), then device_del (waiting for QEMU's
   * DEVICE_DELETED) and object-del of its backend.
   */
  async removeDimm(dimm: AddedDimm, blockBytes: number): Promise<Removal> {
    const node = this.#o.node;
    const blocks = dimmBlocks(dimm.addr, dimm.sizeMb * 1024 * 1024, blockBytes);
    const before = await this.#nodeMemKiB();
    const states = blocks.map((b) => `/sys/devices/system/memory/memory${b}/state`).join(" ");
    const off = await this.#timed(
      "mem-offline",
      [memPhase("offline", node, before - dimm.sizeMb * 1024 + MEM_SLACK_KIB, false)],
      () => this.#guestCommand(`for f in ${states}; do echo offline > $f || exit 1; done`, "offline the DIMM's memory"),
    );
    const del = await this.#timed(
      "mem-del",
      [gonePhase("gone", blocks.map((b) => `devices/system/memory/memory${b}`))],
      () => this.#guest.qmp.deviceDel(dimm.id, { waitMs: this.#o.timeoutMs }),
    );
    await this.#guest.qmp.objectDel(dimm.memdev);
    if (!this.#o.dry && (await this.#guest.qmp.queryMemoryDevices()).some((d) => d.data.id === dimm.id)) {
      throw new HyperlabError("virtflex-qemu", `DIMM ${dimm.id} is still listed by query-memory-devices`);
    }
    return { offlineMs: off.phases.offline.ms, deletedMs: del.triggerMs, goneMs: del.phases.gone.ms };
  }

  /**
   * Removes a vCPU: the guest offlines it (it leaves nodeN/cpulist), then device_del until QEMU reports it gone.
   * Do it last: on QEMU 7.2 under TCG a later device_add or memory change on this guest crashes QEMU (double free).
   */
  async removeCpu(cpu: AddedCpu): Promise<Removal> {
    const node = this.#o.node;
    const c = this.#o.dry ? "N" : String(cpu.cpu);
    const off = await this.#timed(
      "cpu-offline",
      [this.#o.dry ? { name: "offline", until: "true" } : cpuOfflinePhase(cpu.cpu, node)],
      () => this.#guestCommand(`echo 0 > /sys/devices/system/cpu/cpu${c}/online`, `offline CPU ${c}`),
    );
    const del = await this.#timed(
      "cpu-del",
      [gonePhase("gone", [`devices/system/cpu/cpu${c}`])],
      () => this.#guest.qmp.deviceDel(cpu.id, { waitMs: this.#o.timeoutMs }),
    );
    this.#usedSlots.delete(JSON.stringify(cpu.props));
    return { offlineMs: off.phases.offline.ms, deletedMs: del.triggerMs, goneMs: del.phases.gone.ms };
  }

  async #nodeMemKiB(): Promise<number> {
    const snap = await this.snapshot();
    if (!snap) return 0;
    const n = snap.nodes.find((x) => x.node === this.#o.node);
    if (!n) throw new HyperlabError("virtflex-qemu", `the guest has no node${this.#o.node}`);
    return n.memTotalKiB;
  }

  async #guestCommand(command: string, what: string): Promise<void> {
    const r = await this.#guest.exec(command, { timeoutMs: this.#o.timeoutMs });
    if (r.code !== 0) {
      throw new HyperlabError("virtflex-qemu", `guest could not ${what} (exit ${r.code}): ${r.stderr.trim()}`);
    }
  }

  /**
   * Starts a watcher in the guest, waits until it is armed, runs `trigger` and waits for every phase. Each phase's
   * time is measured from just before the trigger to its marker's arrival on the console.
   */
  async #timed<T>(what: string, phases: WatchPhase[], trigger: () => Promise<T>): Promise<Timed<T>> {
    const tag = `hl-vf-${what}-${++this.#seq}`;
    const g = this.#guest;
    const timeoutMs = this.#o.timeoutMs;
    const maxPolls = Math.ceil(timeoutMs / this.#o.pollMs) + 1;
    if (!this.#installed) {
      await this.#guestCommand(installPreludeCommand(), "write the watcher helpers");
      this.#installed = true;
    }
    const mark = g.console?.mark() ?? 0;
    const script = watchScript(tag, phases, { pollMs: this.#o.pollMs, maxPolls, preludeFile: PRELUDE_FILE });
    await this.#guestCommand(detachedToConsole(script), `start the ${what} watcher`);
    await g.waitFor(phaseLine(tag, "armed"), { since: mark, timeoutMs: 30_000 });
    let t0 = 0;
    const seen = phases.map((p) =>
      g.waitFor(phaseLine(tag, p.name), { since: mark, timeoutMs }).then((m) => {
        const ms = performance.now() - t0;
        if (m[3]) {
          throw new HyperlabError("virtflex-qemu", `${what}: the guest did not see "${m[3]}" within ${timeoutMs} ms`);
        }
        return [p.name, { ms, report: m[2] }] as const;
      })
    );
    for (const s of seen) s.catch(() => {});
    t0 = performance.now();
    const value = await trigger();
    const triggerMs = performance.now() - t0;
    const phasesSeen = Object.fromEntries(await Promise.all(seen));
    return { phases: phasesSeen, triggerMs, value };
  }
}

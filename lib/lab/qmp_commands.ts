/**
 * Typed QMP commands on a connected client: run state, devices, QOM objects, CPU and memory queries, and vCPU
 * hotplug. Each command is a planned side effect (`kind: "qmp"`), so `--dry-run` lists them.
 * @module
 */
import { currentRun, effect } from "../core/ambient.ts";
import { HyperlabError, InputError } from "../core/errors.ts";
import type { QmpEvent } from "./qmp_types.ts";
import {
  type CpuInstanceProperties,
  QmpClosedError,
  type QmpCpuInfoFast,
  type QmpHotpluggableCpu,
  type QmpMemoryDevice,
  type QmpStatus,
  type QmpVersion,
} from "./qmp_types.ts";

const QOM_ID = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function checkId(field: string, id: unknown): string {
  if (typeof id !== "string" || !QOM_ID.test(id)) {
    throw new InputError(field, "an id starting with a letter (letters, digits, _ . -; at most 64)", id);
  }
  return id;
}

/**
 * True when a DEVICE_DELETED event reports device `id`: by id, by its QOM path, or (for vCPUs, where QEMU 7.2 only
 * reports the CPU's local APIC child) by a child of its path.
 */
export function isDeletionOf(e: QmpEvent, id: string): boolean {
  const path = `/machine/peripheral/${id}`;
  const p = typeof e.data?.path === "string" ? e.data.path : "";
  return e.data?.device === id || p === path || p.startsWith(`${path}/`);
}

/** What typed commands need from a QMP connection: a QmpClient, or a client reaching QEMU through a lab node. */
export interface QmpTransport {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
  /** Event support (optional: one-shot transports have none). */
  waitEvent?(name: string, options?: { timeoutMs?: number; where?: (e: QmpEvent) => boolean }): Promise<QmpEvent>;
}

/** Typed QMP commands of one guest. */
export class Qmp {
  /** The underlying connection (for commands not wrapped here); null for a planned guest. */
  readonly client: QmpTransport | null;
  /** Name used as the plan target (the guest name). */
  readonly target: string;

  constructor(client: QmpTransport | null, target = "qemu") {
    this.client = client;
    this.target = target;
  }

  /** Runs any command as a planned effect; `dry` is what a dry run returns. */
  run<T>(command: string, args: Record<string, unknown> | undefined, dry: () => T, timeoutMs?: number): Promise<T> {
    const action = args ? `${command} ${JSON.stringify(args)}` : command;
    return effect(
      { kind: "qmp", target: this.target, action },
      () => {
        if (!this.client) throw new QmpClosedError(`${this.target} has no QMP connection (planned guest)`);
        return this.client.execute<T>(command, args, { timeoutMs });
      },
      dry,
    );
  }

  /** `query-status`: running, paused, shutdown… */
  status(): Promise<QmpStatus> {
    return this.run("query-status", undefined, () => ({ running: true, status: "running" }));
  }

  /** `query-version`. */
  version(): Promise<QmpVersion> {
    return this.run("query-version", undefined, () => ({ qemu: { major: 0, minor: 0, micro: 0 }, package: "" }));
  }

  /** Pauses all vCPUs. */
  async stop(): Promise<void> {
    await this.run("stop", undefined, () => ({}));
  }

  /** Resumes all vCPUs. */
  async cont(): Promise<void> {
    await this.run("cont", undefined, () => ({}));
  }

  /** Makes QEMU exit at once (no guest shutdown). */
  async quit(): Promise<void> {
    await this.run("quit", undefined, () => ({}));
  }

  /** Presses the ACPI power button. */
  async systemPowerdown(): Promise<void> {
    await this.run("system_powerdown", undefined, () => ({}));
  }

  /** Adds a device: `{driver, id, ...properties}`. */
  async deviceAdd(device: { driver: string; id: string; [prop: string]: unknown }): Promise<void> {
    if (typeof device?.driver !== "string" || !device.driver) {
      throw new InputError("device.driver", "a QEMU device type name", device?.driver);
    }
    checkId("device.id", device.id);
    await this.run("device_add", device, () => ({}));
  }

  /**
   * Asks QEMU to remove device `id`. The guest must cooperate for most devices; with `waitMs` it waits for QEMU's
   * DEVICE_DELETED event and fails with a timeout when the guest did not release it.
   */
  async deviceDel(id: string, options: { waitMs?: number } = {}): Promise<void> {
    checkId("id", id);
    const deleted = options.waitMs && this.client?.waitEvent
      ? this.client.waitEvent("DEVICE_DELETED", { timeoutMs: options.waitMs, where: (e) => isDeletionOf(e, id) })
      : undefined;
    deleted?.catch(() => {});
    await this.run("device_del", { id }, () => ({}));
    if (deleted && !currentRun()?.dryRun) await deleted;
  }

  /** Adds a QOM object: `{"qom-type", id, ...properties}` (e.g. a memory backend). */
  async objectAdd(object: { "qom-type": string; id: string; [prop: string]: unknown }): Promise<void> {
    if (typeof object?.["qom-type"] !== "string" || !object["qom-type"]) {
      throw new InputError("object.qom-type", "a QOM type name such as memory-backend-ram", object?.["qom-type"]);
    }
    checkId("object.id", object.id);
    await this.run("object-add", object, () => ({}));
  }

  /** Removes a QOM object. */
  async objectDel(id: string): Promise<void> {
    checkId("id", id);
    await this.run("object-del", { id }, () => ({}));
  }

  /** `query-cpus-fast`: the vCPUs that exist now. */
  queryCpusFast(): Promise<QmpCpuInfoFast[]> {
    return this.run("query-cpus-fast", undefined, () => []);
  }

  /** `query-hotpluggable-cpus`: every vCPU slot, plugged ones with a `qom-path`. */
  queryHotpluggableCpus(): Promise<QmpHotpluggableCpu[]> {
    return this.run("query-hotpluggable-cpus", undefined, () => []);
  }

  /** `query-memory-devices`: plugged DIMMs and other memory devices. */
  queryMemoryDevices(): Promise<QmpMemoryDevice[]> {
    return this.run("query-memory-devices", undefined, () => []);
  }

  /**
   * Plugs `sizeMiB` of RAM as a DIMM (object-add of a memory-backend-ram, then device_add of a pc-dimm), optionally
   * into guest NUMA node `node`. Needs the guest started with memoryHotplug slots. The guest onlines the new
   * memory blocks (or its kernel does, with memhp_default_state=online).
   */
  async hotplugMemory(
    options: { sizeMiB: number; node?: number; id?: string },
  ): Promise<{ id: string; memdev: string }> {
    if (!Number.isInteger(options?.sizeMiB) || options.sizeMiB < 1) {
      throw new InputError(
        "sizeMiB",
        "a positive whole number of MiB (a multiple of the guest's memory block size)",
        options?.sizeMiB,
      );
    }
    if (options.node !== undefined && (!Number.isInteger(options.node) || options.node < 0)) {
      throw new InputError("node", "a guest NUMA node index", options.node);
    }
    const id = options.id ?? `hl-dimm-${Date.now().toString(36)}`;
    checkId("id", id);
    const memdev = `${id}-mem`;
    await this.objectAdd({ "qom-type": "memory-backend-ram", id: memdev, size: options.sizeMiB * 1024 * 1024 });
    const dimm: { driver: string; id: string; [k: string]: unknown } = { driver: "pc-dimm", id, memdev };
    if (options.node !== undefined) dimm.node = options.node;
    try {
      await this.deviceAdd(dimm);
    } catch (e) {
      await this.objectDel(memdev).catch(() => {});
      throw e;
    }
    return { id, memdev };
  }

  /**
   * Plugs a vCPU into the first free slot from `query-hotpluggable-cpus` (device_add of that slot's type and
   * properties). Returns the device id and slot properties. The guest still has to online it.
   */
  async hotplugCpu(id?: string): Promise<{ id: string; type: string; props: CpuInstanceProperties }> {
    const slots = await this.queryHotpluggableCpus();
    const free = slots.filter((s) => !s["qom-path"]);
    if (slots.length > 0 && free.length === 0) {
      throw new HyperlabError("qmp", `${this.target}: no free vCPU slot (maxcpus reached: ${slots.length} plugged)`, {
        hint: "start the guest with a larger maxCpus",
      });
    }
    const slot = free.sort((a, b) =>
      (a.props["socket-id"] ?? 0) - (b.props["socket-id"] ?? 0) ||
      (a.props["core-id"] ?? 0) - (b.props["core-id"] ?? 0)
    )[0] ?? { type: "max-x86_64-cpu", props: {} };
    const devId = id ??
      `hl-cpu-s${slot.props["socket-id"] ?? 0}-c${slot.props["core-id"] ?? 0}-t${slot.props["thread-id"] ?? 0}`;
    await this.deviceAdd({ driver: slot.type, id: devId, ...slot.props });
    return { id: devId, type: slot.type, props: slot.props };
  }
}

/**
 * Virtflex on KVM/QEMU: guest NUMA topology change that really happens on this machine — vCPUs and memory DIMMs
 * hot-added to and removed from one NUMA node of a QEMU lab guest through QMP, confirmed inside the guest through
 * /sys/devices/system/node and timed until the guest sees each change. The playbook is `virtflex/qemu-topo`.
 *
 * ```ts
 * const layout = deriveLayout(QemuTopoParamsSchema.parse({ node: 1 }));
 * const guest = await startGuest(layout.guest);
 * const d = new QemuTopoDriver(guest, layout, { node: 1, timeoutMs: 60_000, pollMs: 10, dry: false });
 * const cpu = await d.addCpu();          // { cpu: 2, presentMs, nodeMs }
 * const dimm = await d.addDimm(128);     // { addr, nodeMs }
 * ```
 * @module
 */
export {
  cpuDeviceType,
  deriveLayout,
  expectedSlotProps,
  MAX_VCPU_SLOTS,
  MEMORY_BLOCK_MB,
  MIN_POSSIBLE_CPUS,
  pickFreeSlot,
  type QemuTopoParams,
  QemuTopoParamsSchema,
  type TopoLayout,
  type VcpuSlot,
} from "./qemu_layout.ts";
export {
  confirmChange,
  dimmBlocks,
  type ExpectedChange,
  type GuestNode,
  type GuestTopology,
  MEM_SLACK_KIB,
  parseCpuList,
  parseSnapshot,
  SNAPSHOT_COMMAND,
} from "./guest_topology.ts";
export {
  cpuAddPhases,
  cpuOfflinePhase,
  detachedToConsole,
  gonePhase,
  installPreludeCommand,
  memPhase,
  phaseLine,
  PRELUDE_FILE,
  type WatchOptions,
  type WatchPhase,
  watchPrelude,
  watchScript,
} from "./guest_watch.ts";
export {
  type AddedCpu,
  type AddedDimm,
  type DriverOptions,
  EXPECTED_FIRST_DIMM_ADDR,
  QemuTopoDriver,
  type Removal,
} from "./qemu_driver.ts";

/**
 * Lab guests: real Linux guests in QEMU for experiments on this machine (or, through a node's runner, on a lab
 * node). This is the public face of the guest part of `lib/lab/`.
 *
 * ```ts
 * import { startGuest } from "./lib/lab/guests_mod.ts";
 * await using guest = await startGuest({ name: "g1", cpus: 1, maxCpus: 2, memoryMiB: 256 });
 * console.log((await guest.exec("uname -r")).stdout);     // over SSH (dropbear in the guest)
 * const cpu = await guest.qmp.hotplugCpu();                 // QMP device_add into a free vCPU slot
 * await guest.exec("echo 1 > /sys/devices/system/cpu/cpu1/online");
 * await guest.shutdown();
 * ```
 * Inside a playbook run the guest is stopped by the run's deferred cleanup on success, failure and Ctrl-C (and it
 * dies with the controller even on SIGKILL); its console goes to the run log (debug) and is stored as the artifact
 * `guest-<name>-console.log`; the accelerator used (KVM when a probe boot shows it works, else TCG) is recorded in
 * the run's facts. Under `--dry-run` the QEMU command line and every SSH/QMP call are planned instead.
 *
 * Also here: `startGuests({count})` (N guests as inventory node specs), `startGuestOnNode(node, …)` (a guest on a
 * lab node through its command runner; `nodeRunnerOf(remoteNode)` adapts the cluster layer's nodes),
 * `buildInitramfs` / `buildGuestImage` / `fetchKernel` / `buildStaticProgram` (images in `.hyperlab/cache/`, keyed
 * by content), and the QMP client. Guest options: vCPUs and `maxCpus`, memory and `memoryHotplug` slots, `numa`
 * nodes, `network.forwards`, `drives` (files or `nbd://` URLs), `iommu` (intel-iommu, device IOTLB), `trace`
 * events to a file, `kernelArgs`, `accel`.
 * @module
 */
export { type BootTimes, Guest, type GuestExit, type ShutdownHow } from "./guest.ts";
export { startGuest, type StartGuestOptions, StartOptionsSchema } from "./guest_start.ts";
export { GuestExitedError, QemuStartError } from "./guest_errors.ts";
export { type GuestEndpoint, type GuestExecResult, sshArgv, sshExec } from "./guest_ssh.ts";
export { GuestConsole } from "./guest_console.ts";
export { sweepStaleRunDirs } from "./guest_stale.ts";
export { type Fleet, type FleetOptions, startGuests } from "./guest_fleet.ts";
export {
  attachNodeGuest,
  NodeGuest,
  type NodeGuestEndpoint,
  type NodeGuestState,
  type NodeRunner,
  type NodeRunResult,
} from "./guest_node.ts";
export { type NodePaths, startGuestOnNode } from "./guest_node_start.ts";
export { localNodeRunner } from "./guest_node_local.ts";
export { type GuestNodeSpec, guestNodeSpec, nodeRunnerOf, type RunsCommands } from "./guest_node_adapter.ts";
export { type GuestKeys, guestKeys, knownHostsLine } from "./guest_keys.ts";
export {
  buildGuestImage,
  type GuestImage,
  type GuestImageSpec,
  guestInitScript,
  SSH_READY_MARKER,
  USERSPACE_MARKER,
} from "./image_guest.ts";
export { buildInitramfs, type Initramfs, type InitramfsSpec } from "./image_initramfs.ts";
export { type CpioEntry, writeCpio } from "./image_cpio.ts";
export { buildStaticProgram, type StaticProgram, type StaticProgramSpec } from "./image_program.ts";
export { cacheRoot } from "./image_cache.ts";
export { fetchKernel, type Kernel, kernelConfigValue, resolveKernelPackage } from "./kernel_package.ts";
export { GUEST_BASE_MODULES, type ModuleFile, resolveModules } from "./kernel_modules.ts";
export { type AccelDecision, decideAccel, probeKvm } from "./qemu_accel.ts";
export { buildQemuArgv, kernelCommandLine, QEMU_BINARY, type QemuRuntime } from "./qemu_argv.ts";
export { type GuestOptions, type GuestOptionsInput, GuestOptionsSchema, parseGuestOptions } from "./qemu_options.ts";
export { freePort, portIsFree } from "./qemu_ports.ts";
export { QmpClient } from "./qmp_client.ts";
export { isDeletionOf, Qmp, type QmpTransport } from "./qmp_commands.ts";
export * from "./qmp_types.ts";

/**
 * FragVisor (seed-systems §1): one aggregate VM over Popcorn Linux nodes. Pure pieces — debug.h origin define,
 * msg_layer/config.h from the inventory, the lkvm command line from the vCPU layout, dmesg and console markers,
 * `ab` and /proc/popcorn_stat parsing — and the procedure steps the `fragvisor` playbook runs.
 *
 * ```ts
 * const layout = resolveLayout([1, 1, 1, 1], 4);
 * lkvmArgv({ lkvm: "/root/fragvisor-kvmtool/lkvm", layout, memoryMb: 32768, ... }); // ["…/lkvm", "run", "-a", "1", …]
 * ```
 * @module
 */
export { type AbResult, parseAb } from "./ab_output.ts";
export * from "./commands.ts";
export {
  CONSOLE_MARKERS,
  type ConsoleMarker,
  type ConsoleState,
  ConsoleWatcher,
  stripAnsi,
} from "./console_markers.ts";
export { busiest, busyFraction, type CpuSample, parseCpuLine } from "./cpu_load.ts";
export { DEBUG_H, debugHCommands, type DebugHOptions, DROP_ORIGIN_SED, editDebugH, ORIGIN_DEFINE } from "./debug_h.ts";
export {
  describeJoin,
  type JoinStatus,
  joinStatus,
  type MsgFailure,
  type MsgLayerState,
  type NodeJoin,
  parseDmesg,
  popcornLines,
} from "./dmesg_markers.ts";
export {
  abCommand,
  collectPopcornStat,
  openLambdaCommand,
  type OpenLambdaResult,
  parseOpenLambda,
  runAb,
} from "./experiments.ts";
export {
  connectGuest,
  DEFAULT_GUEST_CREDENTIALS,
  type GuestCredential,
  guestCredentials,
  type GuestShell,
} from "./guest_shell.ts";
export { type InteractiveOptions, type InteractiveProcess, startInteractive } from "./interactive.ts";
export { installHostKernels, powerCycleAll, rebootAll } from "./kernels.ts";
export {
  cleanLkvmState,
  ConsoleError,
  type LaunchedVm,
  rebuildOnOrigin,
  startLkvm,
  waitForBridge,
  waitForConsole,
} from "./launch.ts";
export {
  BASE_CMDLINE,
  checkLkvmArgvOrder,
  guestCmdline,
  lkvmArgv,
  type LkvmLaunch,
  networkSpec,
  NODE_FLAGS,
} from "./lkvm_argv.ts";
export { MAX_NODES, messagingIps, MSG_IP_VAR, parseMsgConfig, renderMsgConfig } from "./msg_config.ts";
export {
  type DmesgBaseline,
  loadMessagingLayerInOrder,
  MessagingLayerError,
  prepareMessagingLayer,
  readJoinStatus,
  waitForJoin,
} from "./msg_layer.ts";
export { absPath, ifName, ipv4, isIpv4, mac } from "./net_values.ts";
export {
  EXPERIMENTS,
  type FragvisorConfig,
  FragvisorParams,
  type FragvisorParamsT,
  type Phase,
  PHASES,
  resolveConfig,
  TREE_VAR,
} from "./params.ts";
export { parsePopcornStat } from "./popcorn_stat.ts";
export { bmcPowerCycle, type PowerCycle } from "./power.ts";
export { bootId, waitForNewBoot, waitForSsh } from "./reboot.ts";
export { type PinnedRun, verifyPlacement } from "./verify.ts";
export { resolveLayout, tasksetMask, type VcpuLayout } from "./vcpu_layout.ts";

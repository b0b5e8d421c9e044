/**
 * Nephele (seed-systems §2) on Xen testbeds: the parent's xl config (max_clones, skip_cloning, vif, cmdline) on
 * lib/xen's model, dom0 preflight (Xen, clone hypercall, xencloned, bridge kind), xencloned management, clone
 * triggers, children counting in `xl list`, xencloned log parsing, and the UDP time collector (port 32764) that
 * acks guest reports.
 *
 * ```ts
 * await using c = await TimeCollector.start({ port: 32764 });
 * await c.waitForReports(10, 30_000);
 * ```
 * @module
 */
export { childName, childrenOf, consoleLogPaths } from "./children.ts";
export {
  sendForkFromController,
  sendForkFromDom0,
  waitForChildren,
  waitForConsoleMarker,
  waitForGuestPing,
  xlClone,
  xlOn,
} from "./dom0.ts";
export { guestCmdline, parentXlConfig, parentXlConfigText, vifSpec } from "./guest_config.ts";
export { NepheleParams, type NepheleParamsT, TRIGGERS } from "./params.ts";
export { parsePreflight, preflightScript, requireCloningXen, type XenFacts } from "./preflight.ts";
export { type CollectorOptions, type ReceivedReport, TimeCollector } from "./time_collector.ts";
export { parseTimeReport, TIME_REPORT_PORT, type TimeReport } from "./time_report.ts";
export { startXencloned, xenclonedArgv, type XenclonedHandle, type XenclonedOptions } from "./xencloned.ts";
export { type CloneCompletion, completionStats, parseXenclonedLog, type XenclonedLog } from "./xencloned_log.ts";

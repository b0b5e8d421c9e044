/**
 * Xen for hyperlab: libxenctrl through FFI (`openXenctrl`: version, physinfo, domains, vCPU affinity, max memory,
 * pause, raw hypercalls), the xl config model with a writer and parser of xl's syntax, typed `xl` commands, and
 * Virtflex's `numa/…` xenstore protocol (paths, target formulas, topology reader, libxl-like layout writer).
 *
 * ```ts
 * const cfg = validateXlConfig({ name: "g1", memory: 1024, vcpus: 2, kernel: "/boot/vmlinuz" });
 * console.log(writeXlConfig(cfg));
 * await new Xl().create(cfg);              // --dry-run prints the file and `xl create`
 * const xc = await openXenctrl();           // MissingError naming /dev/xen/privcmd without Xen
 * ```
 * @module
 */
export { openXenctrl, PRIVCMD, XenCtrl, type XenDomainInfo, type XenPhysinfo, type XenVersion } from "./xenctrl.ts";
export { validateXlConfig, VnumaNode, XlConfig } from "./xl_config.ts";
export { parseXlConfig, parseXlConfigText, writeXlConfig, type XlValue } from "./xl_config_text.ts";
export { type CommandResult, type CommandRunner, type DomainRef, localRunner, Xl } from "./xl.ts";
export { parseXlInfo, parseXlList, parseXlVcpuList, type XlInfo, type XlListRow, type XlVcpuRow } from "./xl_output.ts";
export { cpusToMap, formatCpuList, mapToCpus, parseCpuList } from "./cpumap.ts";
export * from "./virtflex.ts";

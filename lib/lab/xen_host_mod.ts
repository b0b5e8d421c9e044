/**
 * The Xen lab host: a real Xen 4.17 (Debian's packages) with a Debian dom0, booted in QEMU (TCG here), reachable as
 * a lab node over SSH, with the project and the host's Deno shared into dom0 over 9p so project code (our
 * libxenstore and libxenctrl shims) runs against the real hypervisor and Xen's own xenstored. This is the public
 * face of the Xen part of `lib/lab/`.
 *
 * ```ts
 * import { startXenHost, createXenGuest } from "./lib/lab/xen_host_mod.ts";
 * await using host = await startXenHost({ name: "xen0" });           // QEMU start → dom0 ready ~15–40 s under TCG
 * console.log(host.bootTimes, (await host.execOk("xl info")).split("\n")[0]);
 * const r = await host.deno("tests/integration/xenlab/_dom0_probe.ts", ["probe"]);   // Deno inside dom0
 * const g = await createXenGuest(host, { name: "g1", type: "pv", memory: 256, vcpus: 2 });   // xl create
 * await host.xl().vcpuPin("g1", 0, "0");
 * await g.waitForConsole(/hyperlab-xguest: ready/);
 * await g.destroy();
 * ```
 * From a shell: `deno task xenlab up` boots a detached host and writes `.hyperlab/lab/xen/inventory.yaml`
 * (node `xen0`, roles `xen`, `dom0`) for `--inventory`; `deno task xenlab status|ssh -- CMD|down`.
 * @module
 */
export {
  DOM0_CACHE,
  DOM0_PROJECT,
  startXenHost,
  type StartXenHostOptions,
  stopXenHostPid,
  XEN_BOOT_FAILURE,
  XEN_DOM0_READY_MARKER,
  XEN_DOM0_USERSPACE_MARKER,
  XenHost,
  type XenHostBootTimes,
} from "./xen_host.ts";
export {
  parseXenHostOptions,
  type XenHostOptions,
  type XenHostOptionsInput,
  XenHostOptionsSchema,
} from "./xen_host_options.ts";
export {
  dom0CommandLine,
  type VirtfsShare,
  xenCommandLine,
  xenHostArgv,
  type XenHostRuntime,
} from "./xen_host_qemu.ts";
export {
  buildXenHostImage,
  DOM0_DENO,
  DOM0_MODULES,
  DOM0_XEN_BIN,
  DOM0_XEN_TOOLS,
  DOM0_XENSTORE_UTILS,
  type XenHostImage,
} from "./xen_host_image.ts";
export { fetchXenPackages, XEN_PACKAGES, XEN_SERIES, type XenPackages } from "./xen_host_packages.ts";
export { FileConsole } from "./xen_host_console.ts";
export { DOM0_SOURCE_PATHS, type SourceArchive, sourceArchive } from "./xen_host_source.ts";
export {
  buildXenGuestImage,
  createXenGuest,
  parseXenGuestView,
  XEN_GUEST_INIT,
  XEN_GUEST_READY_MARKER,
  type XenGuest,
  type XenGuestImage,
  type XenGuestView,
} from "./xen_host_guest.ts";
export {
  attachXenLab,
  readXenLabState,
  writeXenLabInventory,
  XEN_LAB_DIR,
  xenLabDown,
  xenLabInventory,
  type XenLabState,
  xenLabUp,
} from "./xen_host_lab.ts";

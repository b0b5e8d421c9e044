/**
 * The parent guest's xl config, built on lib/xen's XlConfig model (which validates it): a 1-vCPU PV guest (Nephele
 * clones only 1-vCPU x86 PV guests), `max_clones`, `skip_cloning`, the vif and the application's cmdline.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { validateXlConfig, writeXlConfig, type XlConfig } from "../xen/mod.ts";
import type { NepheleParamsT } from "./params.ts";

/** The vif string of the seed: `mac=…,ip=<ip> <netmask> <gateway>,bridge=…`. */
export function vifSpec(p: Pick<NepheleParamsT, "mac" | "guestIp" | "netmask" | "gateway" | "bridge">): string {
  return `mac=${p.mac},ip=${p.guestIp} ${p.netmask} ${p.gateway},bridge=${p.bridge}`;
}

/** The guest cmdline: ` -- <app args>[ --send-time]` (Unikraft passes what follows `--` to the app). */
export function guestCmdline(p: Pick<NepheleParamsT, "appArgs" | "sendTime">): string {
  if (/['"\n]/.test(p.appArgs)) throw new InputError("--app-args", "arguments without quotes or newlines", p.appArgs);
  const args = p.appArgs.trim();
  const send = p.sendTime && !/--send-time\b/.test(args) ? " --send-time" : "";
  return ` -- ${args}${send}`;
}

/** The parent's xl config. */
export function parentXlConfig(p: NepheleParamsT): XlConfig {
  const raw: Record<string, unknown> = {
    name: p.name,
    type: "pv",
    kernel: p.kernel,
    ramdisk: p.ramdisk,
    memory: p.memoryMb,
    vcpus: 1,
    cpus: p.cpus,
    on_crash: "preserve",
    vif: p.noNetwork ? undefined : [vifSpec(p)],
    max_clones: p.maxClones ?? p.clones,
    skip_cloning: p.skipCloning.length ? p.skipCloning : undefined,
    cmdline: p.cmdline ?? guestCmdline(p),
  };
  return validateXlConfig(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
}

/** The parent's config in xl syntax. */
export function parentXlConfigText(p: NepheleParamsT): string {
  return writeXlConfig(parentXlConfig(p));
}

/**
 * Chooses the accelerator: KVM when it can actually boot Linux on this host, else TCG. Having /dev/kvm is not
 * enough (on some hosts, e.g. nested setups, a KVM guest hangs before the kernel prints anything), so `auto` runs a
 * short bounded probe boot once and caches the verdict, keyed by host kernel, QEMU version and guest kernel.
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheDir, contentHash } from "./image_cache.ts";
import { exec } from "./image_exec.ts";
import { buildInitramfs } from "./image_initramfs.ts";
import type { Kernel } from "./kernel_package.ts";
import { QEMU_BINARY } from "./qemu_argv.ts";

/** Which accelerator a guest runs with, and why. */
export interface AccelDecision {
  accel: "kvm" | "tcg";
  /** Why: "requested", "no /dev/kvm", "KVM probe booted Linux in 0.8 s", "KVM probe: no userspace in 6 s"… */
  reason: string;
  /** True when the verdict came from the cache. */
  cached?: boolean;
}

/** Printed by the probe's init when the kernel reached userspace. */
export const PROBE_MARKER = "hyperlab-kvm-probe: userspace";
/** How long the probe waits for the kernel to reach userspace under KVM (TCG takes ~2 s here). */
export const KVM_PROBE_TIMEOUT_MS = 6_000;

const memo = new Map<string, Promise<AccelDecision>>();

function kvmUsable(): boolean {
  try {
    Deno.openSync("/dev/kvm", { read: true, write: true }).close();
    return true;
  } catch {
    return false;
  }
}

/** Decides the accelerator for `requested` ("auto" probes; "kvm"/"tcg" are taken as given). */
export async function decideAccel(requested: "auto" | "kvm" | "tcg", kernel: Kernel): Promise<AccelDecision> {
  if (requested !== "auto") return { accel: requested, reason: "requested" };
  const env = Deno.env.get("HYPERLAB_ACCEL");
  if (env === "kvm" || env === "tcg") return { accel: env, reason: "HYPERLAB_ACCEL" };
  if (!kvmUsable()) return { accel: "tcg", reason: "no usable /dev/kvm" };
  const qemu = (await exec(QEMU_BINARY, ["--version"], { pkg: "qemu-system-x86" })).stdout.split("\n")[0];
  const key = contentHash(["accel-v1", Deno.osRelease(), Deno.hostname(), qemu, kernel.package, kernel.debVersion]);
  let p = memo.get(key);
  if (!p) {
    p = cachedOrProbe(key, kernel);
    memo.set(key, p);
  }
  return await p;
}

async function cachedOrProbe(key: string, kernel: Kernel): Promise<AccelDecision> {
  const file = join(await cacheDir("accel"), `${key}.json`);
  try {
    const v = JSON.parse(await readFile(file, "utf8")) as AccelDecision;
    if (v.accel === "kvm" || v.accel === "tcg") return { ...v, cached: true };
  } catch { /* no verdict yet */ }
  const verdict = await probeKvm(kernel);
  await writeFile(file, JSON.stringify({ ...verdict, probedAt: new Date().toISOString() }));
  return verdict;
}

/** The one-line-init initramfs of the KVM probe. */
export async function probeInitramfs(): Promise<string> {
  return (await buildInitramfs({ init: `#!/bin/sh\necho "${PROBE_MARKER}"\npoweroff -f\n` })).path;
}

/** QEMU argv (without the binary) of the KVM probe boot. */
export function kvmProbeArgv(kernelPath: string, initrdPath: string): string[] {
  return [
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-accel",
    "kvm",
    "-cpu",
    "host",
    "-M",
    "q35",
    "-m",
    "128M",
    "-kernel",
    kernelPath,
    "-initrd",
    initrdPath,
    "-append",
    "console=ttyS0 panic=-1 quiet",
    "-serial",
    "stdio",
  ];
}

/** Boots `kernel` under KVM with a one-line init and reports whether userspace was reached in time. */
export async function probeKvm(kernel: Kernel, timeoutMs = KVM_PROBE_TIMEOUT_MS): Promise<AccelDecision> {
  const args = kvmProbeArgv(kernel.vmlinux ?? kernel.vmlinuz, await probeInitramfs());
  const t0 = performance.now();
  const child = new Deno.Command(QEMU_BINARY, { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const s = (performance.now() - t0) / 1000;
  if (new TextDecoder().decode(out.stdout).includes(PROBE_MARKER)) {
    return { accel: "kvm", reason: `KVM probe reached userspace in ${s.toFixed(1)} s` };
  }
  const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
  return {
    accel: "tcg",
    reason: `KVM probe: no userspace within ${(timeoutMs / 1000).toFixed(0)} s${err ? ` (${err})` : ""}`,
  };
}

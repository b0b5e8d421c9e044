/**
 * Parameters of the Scalevisor playbook (zod) and the sizes derived from them, with the cross-field checks (the
 * remote disk must fit in the servers' pools and hold the working set, the working set must fit in the guest),
 * so a bad combination fails before any server or guest starts, naming the flag.
 * @module
 */
import { z } from "zod";
import { InputError } from "../../lib/core/errors.ts";
import { parseSize } from "../../lib/rmem/mod.ts";
import { pointsFor } from "./kmeans.ts";

const size = z.string().regex(/^\d+[KMGT]?$/i, "a size like 256M").describe("size, e.g. 256M");

/** The playbook's parameters (CLI flags are the kebab-case names). */
export const ScalevisorParams = z.object({
  inventory: z.string().min(1).optional().describe(
    'inventory file or "lab": memory servers run on its nodes (default: local processes on this host)',
  ),
  limit: z.string().min(1).optional().describe("limit expression selecting the memory-server nodes"),
  servers: z.number().int().min(1).max(16).default(2).describe(
    "memory servers (with --inventory: the first N selected nodes)",
  ),
  poolPerServer: size.default("128M").describe("memory each server exports"),
  disk: size.default("128M").describe("size of the remote-memory swap disk (and of the local-disk baseline image)"),
  merge: z.boolean().default(false).describe("merge adjacent rmem requests"),
  workingSet: size.default("96M").describe("kmeans working set (its points array)"),
  dims: z.number().int().min(1).max(256).default(8).describe("kmeans dimensions per point"),
  k: z.number().int().min(1).max(256).default(4).describe("kmeans clusters"),
  iterations: z.number().int().min(1).max(100).default(2).describe("kmeans iterations"),
  ratios: z.array(z.number().gt(0).max(1)).min(1).max(16).default([1, 0.75, 0.5, 0.25]).describe(
    "local-memory ratios to sweep (cgroup limit = ratio × the all-local run's memory.peak)",
  ),
  repeat: z.number().int().min(1).max(10).default(1).describe(
    "rounds: every point is measured this many times, rounds interleaved; the plot shows medians",
  ),
  limitKind: z.enum(["max", "high"]).default("max").describe(
    "cgroup limit file: max (hard, as Fastswap; slow swap can get kmeans OOM-killed, recorded) or high (throttling)",
  ),
  diskBaseline: z.boolean().default(true).describe("also run every ratio with swap on a local disk image"),
  guestMemory: size.default("256M").describe("guest RAM"),
  guestCpus: z.number().int().min(1).max(8).default(1).describe("guest vCPUs"),
  killServer: z.boolean().default(false).describe(
    "fault drill after the sweep: SIGKILL the first memory server, record the pages lost, check guest reads fail",
  ),
  runTimeout: z.number().int().min(10).max(7200).default(600).describe("seconds allowed for one kmeans run"),
}).strict();

/** Parsed parameters. */
export type ScalevisorParamsT = z.infer<typeof ScalevisorParams>;

/** Sizes and the kmeans shape derived from the parameters. */
export interface ScalevisorSizes {
  diskBytes: number;
  poolBytes: number;
  /** Bytes each server grants the host (the disk spread evenly, page-rounded). */
  perServerBytes: number;
  workingSetBytes: number;
  guestMemoryMiB: number;
  kmeans: { points: number; dims: number; k: number; iterations: number };
  /** Ratios as integer per-mille (the guest computes memory.max with shell integer arithmetic). */
  perMille: number[];
}

/** Derives sizes and checks the cross-field rules; throws InputError naming the flag. */
export function resolveSizes(p: ScalevisorParamsT): ScalevisorSizes {
  const diskBytes = parseSize(p.disk, "--disk");
  const poolBytes = parseSize(p.poolPerServer, "--pool-per-server");
  const workingSetBytes = parseSize(p.workingSet, "--working-set");
  const guestBytes = parseSize(p.guestMemory, "--guest-memory");
  if (diskBytes % 4096 !== 0) throw new InputError("--disk", "a multiple of 4 KiB", p.disk);
  if (guestBytes % (1 << 20) !== 0 || guestBytes < 128 << 20) {
    throw new InputError("--guest-memory", "a whole number of MiB, at least 128M", p.guestMemory);
  }
  const perServerBytes = Math.ceil(diskBytes / p.servers / 4096) * 4096;
  if (perServerBytes > poolBytes) {
    throw new InputError(
      "--disk",
      `at most --servers × --pool-per-server (${p.servers} × ${p.poolPerServer})`,
      p.disk,
    );
  }
  if (workingSetBytes > diskBytes) {
    throw new InputError("--working-set", `at most --disk (${p.disk}): the swap disk must hold it`, p.workingSet);
  }
  if (workingSetBytes > guestBytes - (96 << 20)) {
    throw new InputError(
      "--working-set",
      `at most --guest-memory minus 96M for the guest's kernel and initramfs (${(guestBytes >> 20) - 96}M)`,
      p.workingSet,
    );
  }
  const perMille = p.ratios.map((r) => Math.round(r * 1000));
  p.ratios.forEach((r, i) => {
    if (Math.abs(perMille[i] - r * 1000) > 1e-6) {
      throw new InputError(`--ratios[${i}]`, "a ratio with at most three decimals", r);
    }
  });
  const dup = perMille.findIndex((m, i) => perMille.indexOf(m) !== i);
  if (dup >= 0) throw new InputError(`--ratios[${dup}]`, "distinct ratios", p.ratios[dup]);
  const points = pointsFor(workingSetBytes, p.dims);
  if (p.k > points) throw new InputError("--k", `at most the number of points (${points})`, p.k);
  return {
    diskBytes,
    poolBytes,
    perServerBytes,
    workingSetBytes,
    guestMemoryMiB: guestBytes >> 20,
    kmeans: { points, dims: p.dims, k: p.k, iterations: p.iterations },
    perMille,
  };
}

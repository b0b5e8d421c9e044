/**
 * Model configuration: the cache geometry (a zod schema, also read from and written to the reference's `.cfg`
 * text format) and run options (tqueue, inorder, salloc, IOTLB policy, link speed, quirk switches). Inputs that
 * crash or hang the reference (`groups:0`, a blank line mid-file, a zero prefetch distance…) are rejected here.
 * @module
 */
import { z } from "zod";
import { InputError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";

const count = z.number().int().min(0).max(1 << 24);

/** One `.cfg` block. Missing keys are 0, as in the reference. */
export const CacheConfigSchema = z.object({
  size: count.default(0).describe("entries"),
  assoc: count.default(0).describe("ways (for PREFETCH: the prefetch distance)"),
  groups: count.default(0).describe("DID groups partitioning the sets"),
  histlen: count.default(0).describe("PREFETCH: translations remembered per SID"),
});

/** One cache's geometry. */
export type CacheConfig = z.infer<typeof CacheConfigSchema>;

/** Cache names of the `.cfg` format (L1PAGE is accepted and unused, as in the reference). */
export const CACHE_NAMES = ["CC", "IOTLB", "L2PAGE", "L3PAGE", "PREFETCH", "L1PAGE"] as const;

/** The whole geometry. */
export const ModelConfigSchema = z.object({
  CC: CacheConfigSchema.default({ size: 1536, assoc: 1536, groups: 1, histlen: 2 }),
  IOTLB: CacheConfigSchema.default({ size: 64, assoc: 8, groups: 1, histlen: 2 }),
  L2PAGE: CacheConfigSchema.default({ size: 512, assoc: 16, groups: 1, histlen: 2 }),
  L3PAGE: CacheConfigSchema.default({ size: 1024, assoc: 16, groups: 1, histlen: 2 }),
  PREFETCH: CacheConfigSchema.default({ size: 0, assoc: 32, groups: 1, histlen: 2 }),
  L1PAGE: CacheConfigSchema.optional(),
});

/** Cache geometry of a model run. */
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Reference quirks; each `true` reproduces the reference (the default). */
export const QuirksSchema = z.object({
  walkLatencyByLevel: z.boolean().default(true).describe(
    "a walk missing both page caches costs 50*lvl ns (reference) instead of the intended 50*(4-lvl)",
  ),
  prefetchWithoutBuffer: z.boolean().default(true).describe("issue prefetch walks even when the buffer size is 0"),
  iotlbIndex2M: z.boolean().default(true).describe("index IOTLB sets at 2 MB granularity (else 4 KB)"),
  iotlbCountAtFill: z.boolean().default(true).describe(
    "count IOTLB hit/miss at fill time (else at the lookup when the request arrives)",
  ),
});

/** Quirk switches. */
export type Quirks = z.infer<typeof QuirksSchema>;

/** Run options of the model. */
export const RunOptionsSchema = z.object({
  tqueue: z.number().int().min(1).max(1 << 20).default(1).describe(
    "pending-translation limit: a packet issues only while fewer translations are in flight",
  ),
  inorder: z.boolean().default(false).describe("FIFO event queues instead of priority queues"),
  salloc: z.boolean().default(false).describe("static partitioning: allocate only for DIDs of each cache's groups"),
  iotlbRepl: z.enum(["lru", "lfu", "oracle"]).default("lru").describe("IOTLB replacement policy"),
  linkGbps: z.number().int().min(1).max(12336).default(200).describe("link bandwidth in Gb/s"),
  mode: z.enum(["event", "tick"]).default("event").describe(
    "event: jump over idle nanoseconds; tick: visit every ns like the reference",
  ),
  quirks: QuirksSchema.default({
    walkLatencyByLevel: true,
    prefetchWithoutBuffer: true,
    iotlbIndex2M: true,
    iotlbCountAtFill: true,
  }),
});

/** Run options (input form: every field optional). */
export type RunOptionsInput = z.input<typeof RunOptionsSchema>;
/** Run options, parsed. */
export type RunOptions = z.infer<typeof RunOptionsSchema>;

/** The explorer's default geometry. */
export function defaultConfig(): ModelConfig {
  return ModelConfigSchema.parse({});
}

/** Number of sets `size / assoc` (0 when either is 0): the reference creates this many rows. */
export function setCount(c: CacheConfig): number {
  return c.assoc === 0 ? 0 : Math.floor(c.size / c.assoc);
}

/**
 * Parses and checks a geometry. Beyond the schema it rejects what makes the reference crash or misbehave:
 * `groups` 0 (SIGFPE), more groups than sets (negative index width), a prefetch distance (`assoc`) or `histlen` of 0
 * (reads of an empty vector).
 */
export function parseModelConfig(input: unknown, where = "hypersio config"): ModelConfig {
  const cfg = parseOrThrow(ModelConfigSchema, input ?? {}, where);
  for (const name of ["CC", "IOTLB", "L2PAGE", "L3PAGE"] as const) {
    const c = cfg[name];
    if (c.groups < 1) {
      throw new InputError(`${name}.groups`, "an integer >= 1 (the reference divides by it: SIGFPE)", c.groups, {
        where,
      });
    }
    const sets = setCount(c);
    if (sets > 0 && c.groups > sets) {
      throw new InputError(`${name}.groups`, `at most the number of sets (${sets} = size/assoc)`, c.groups, { where });
    }
  }
  if (cfg.PREFETCH.assoc < 1) {
    throw new InputError("PREFETCH.assoc", "a prefetch distance >= 1 (0 crashes the reference)", cfg.PREFETCH.assoc, {
      where,
    });
  }
  if (cfg.PREFETCH.histlen < 1) {
    throw new InputError("PREFETCH.histlen", "a history length >= 1 (0 corrupts the reference's history)", 0, {
      where,
    });
  }
  return cfg;
}

/** Parses and checks run options (InputError naming the field). */
export function parseRunOptions(input: unknown): RunOptions {
  return parseOrThrow(RunOptionsSchema, input ?? {}, "hypersio run options");
}

/**
 * Reads the reference's `.cfg` text. Unlike the reference, which stops silently at a blank line or unknown key and
 * crashes on a key before any cache name, this names the line and what was expected. Blank lines at the end are fine.
 */
export function parseCfgText(text: string, file = "config.cfg"): ModelConfig {
  const lines = text.split(/\r?\n/);
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === "") last--;
  const blocks: Record<string, Record<string, number>> = {};
  let current = "";
  for (let i = 0; i <= last; i++) {
    const line = lines[i];
    const where = `${file}:${i + 1}`;
    if (line.startsWith("//")) continue;
    if (line.trim() === "") {
      throw new InputError(where, "no blank line inside the configuration (the reference stops reading there)");
    }
    const colon = line.indexOf(":");
    if (colon < 0) {
      const name = line.trim();
      if (!(CACHE_NAMES as readonly string[]).includes(name)) {
        throw new InputError(where, `a cache name (${CACHE_NAMES.join(", ")}) or key: value`, line);
      }
      current = name;
      blocks[current] ??= {};
      continue;
    }
    const m = /^(size|assoc|groups|histlen)\s*:\s*(\d+)\s*$/.exec(line);
    if (!m) throw new InputError(where, "size|assoc|groups|histlen: <non-negative integer>", line);
    if (!current) throw new InputError(where, "a cache name line before the first key (the reference crashes)", line);
    blocks[current][m[1]] = Number(m[2]);
  }
  const present = Object.fromEntries(
    Object.entries(blocks).map(([k, v]) => [k, { size: 0, assoc: 0, groups: 0, histlen: 0, ...v }]),
  );
  return parseModelConfig({ ...defaultsMissing(present), ...present }, file);
}

/** Blocks absent from a `.cfg` are all zeros in the reference. */
function defaultsMissing(present: Record<string, unknown>): Record<string, unknown> {
  const zero = { size: 0, assoc: 0, groups: 0, histlen: 0 };
  const out: Record<string, unknown> = {};
  for (const n of ["CC", "IOTLB", "L2PAGE", "L3PAGE", "PREFETCH"]) if (!(n in present)) out[n] = zero;
  return out;
}

/** Writes the reference's `.cfg` text for a geometry. */
export function formatCfgText(cfg: ModelConfig): string {
  const out: string[] = [];
  for (const name of ["CC", "IOTLB", "L2PAGE", "L3PAGE", "PREFETCH"] as const) {
    const c = cfg[name];
    out.push(name, `size:${c.size}`, `assoc:${c.assoc}`, `groups:${c.groups}`, `histlen:${c.histlen}`);
    out.push("//--------------------------------");
  }
  return out.join("\n") + "\n";
}

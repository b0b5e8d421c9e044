/**
 * Controller-side schemas of the agent protocol: the greeting, responses, and each operation's result, so what
 * comes back from a node is checked before lib code uses it.
 * @module
 */
import { z } from "zod";
import type { AgentOp } from "./agent_ops.ts";

/** The agent's first line. */
export const HelloSchema = z.object({
  hello: z.literal("hyperlab-agent"),
  version: z.number().int(),
  pid: z.number().int(),
});

/** One response line. */
export const ResponseSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({
    id: z.number().int().nullable(),
    ok: z.literal(false),
    error: z.object({
      name: z.string(),
      code: z.string().optional(),
      message: z.string(),
      hint: z.string().optional(),
      field: z.string().optional(),
      expected: z.string().optional(),
    }),
  }),
]);

const HostFactsSchema = z.object({
  hostname: z.string(),
  os: z.object({ id: z.string(), name: z.string(), version: z.string() }),
  kernel: z.object({ release: z.string(), version: z.string() }),
  arch: z.string(),
  cpus: z.object({ count: z.number().int().min(1), model: z.string() }),
  numa: z.array(z.object({ node: z.number().int(), cpus: z.string(), memoryKiB: z.number().nullable() })),
  memory: z.object({ totalKiB: z.number(), availableKiB: z.number() }),
  kvm: z.object({
    present: z.boolean(),
    usable: z.boolean(),
    apiVersion: z.number().optional(),
    maxVcpus: z.number().optional(),
    error: z.string().optional(),
  }),
  xen: z.object({ present: z.boolean(), role: z.enum(["dom0", "domU"]).optional(), version: z.string().optional() }),
  rdma: z.object({ present: z.boolean(), devices: z.array(z.string()) }),
});

const KvmFactsSchema = z.object({
  device: z.string(),
  apiVersion: z.number().int(),
  vcpuMmapSize: z.number().int(),
  caps: z.record(z.string(), z.number()),
});

/** Result schema per operation. */
export const RESULT_SCHEMAS: Record<AgentOp, z.ZodType> = {
  ping: z.object({ pid: z.number().int(), hostname: z.string(), deno: z.string() }),
  hostFacts: HostFactsSchema,
  kvmFacts: KvmFactsSchema,
};

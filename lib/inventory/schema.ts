/**
 * Zod schemas of an inventory file (YAML or TypeScript): nodes, defaults, groups, jump hosts and IPMI endpoints.
 * Secrets (IPMI passwords) are references to an environment variable or a file, never inline values.
 * @module
 */
import { z } from "zod";

/** Node and group names: a letter or digit, then letters, digits, `.`, `_`, `-`. */
export const NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const name = z.string().regex(NAME_PATTERN, "a name of letters, digits, '.', '_' or '-'");
const port = z.number().int().min(1).max(65535);
const host = z.string().min(1, "a host name or address").regex(/^[^\s@/]+$/, "a host name or address without spaces");

/** Where a secret comes from: an environment variable or a file (first line). Inline values are refused. */
export const SecretRefSchema = z.strictObject({
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name").optional(),
  file: z.string().min(1).optional(),
}).refine((r) => (r.env === undefined) !== (r.file === undefined), {
  message: "exactly one of env or file (passwords are never written inline)",
});

/** A secret reference: `{ env: NAME }` or `{ file: path }`. */
export type SecretRef = z.infer<typeof SecretRefSchema>;

/** An IPMI endpoint of a node (BMC). */
export const IpmiSchema = z.strictObject({
  host,
  port: port.default(623),
  user: z.string().min(1),
  password: SecretRefSchema,
  /** ipmitool interface, `lanplus` for IPMI 2.0. */
  interface: z.enum(["lan", "lanplus"]).default("lanplus"),
  /** RMCP+ cipher suite for lanplus (ipmitool -C); 3 is the one nearly every BMC and ipmi_sim support. */
  cipherSuite: z.number().int().min(0).max(17).default(3),
});

/** A jump host written inline (instead of naming another node). */
export const JumpSchema = z.strictObject({
  host,
  port: port.default(22),
  user: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
});

/** One node as written in the file (before defaults are applied). */
export const NodeInputSchema = z.strictObject({
  name,
  host,
  port: port.optional(),
  user: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, "a login name").optional(),
  key: z.string().min(1).optional(),
  /** Explicit position in node order (0 = origin). Nodes without index keep file order after indexed ones. */
  index: z.number().int().min(0).optional(),
  roles: z.array(name).default([]),
  tags: z.array(name).default([]),
  vars: z.record(z.string(), z.unknown()).default({}),
  /** Name of another node to jump through, or an inline jump host. */
  jump: z.union([name, JumpSchema]).optional(),
  ipmi: IpmiSchema.optional(),
  /** True for the machine the controller runs on: lib calls run in-process instead of over SSH. */
  local: z.boolean().default(false),
  /** known_hosts file for this node only (e.g. a QEMU guest's own), overriding `defaults.knownHosts`. */
  knownHosts: z.string().min(1).optional(),
});

/** Values every node inherits unless it sets its own. */
export const DefaultsSchema = z.strictObject({
  port: port.default(22),
  user: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** known_hosts file used to verify host keys. */
  knownHosts: z.string().min(1).optional(),
  vars: z.record(z.string(), z.unknown()).default({}),
});

/** The whole file. `nodes` is checked per node afterwards, so errors can name the node. */
export const InventoryFileSchema = z.strictObject({
  defaults: DefaultsSchema.default({ port: 22, vars: {} }),
  nodes: z.array(z.unknown()).min(1, "at least one node"),
  /** Group name → member node names or other group names. Roles and tags are groups too. */
  groups: z.record(name, z.array(name)).default({}),
});

/** Typed options of rmem servers and clients (zod), so bad input fails with the field's name before anything runs. */
import { z } from "zod";

/** A `host:port` endpoint string. */
export const EndpointSchema = z.string().regex(/^[A-Za-z0-9_.:\[\]-]+:\d{1,5}$/, "an endpoint host:port").refine(
  (s) => {
    const port = Number(s.slice(s.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
  },
  "a port between 1 and 65535",
);

/** Splits a validated endpoint into host and port. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(":");
  return { host: endpoint.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port: Number(endpoint.slice(i + 1)) };
}

const pageSize = z.number().int().refine((n) => n >= 512 && n <= 1 << 20 && (n & (n - 1)) === 0, {
  message: "a power of two between 512 and 1048576",
});

/** Options of a memory server. */
export const ServerOptionsSchema = z.object({
  /** Address to listen on. */
  host: z.string().min(1).default("127.0.0.1"),
  /** TCP port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(0),
  /** Bytes of memory the server exports. */
  poolBytes: z.number().int().positive().max(2 ** 40),
  /** Slice granularity. */
  pageSize: pageSize.default(4096),
  /** Also serve clients over RDMA (verbs transport); needs an RDMA device. */
  verbs: z.boolean().default(false),
}).strict();

/** Options of a memory server as given by a caller. */
export type ServerOptions = z.input<typeof ServerOptionsSchema>;

/** Options of a client spreading regions across servers. */
export const ClientOptionsSchema = z.object({
  /** Memory servers, `host:port` each. */
  servers: z.array(EndpointSchema).min(1, "at least one server"),
  /** Bytes of pool to ask each server for at connect. */
  bytesPerServer: z.number().int().positive().max(2 ** 40),
  /** Merge adjacent queued requests of the same kind into one wire request. */
  merge: z.boolean().default(false),
  /** Largest merged request in bytes. */
  maxMergeBytes: z.number().int().min(4096).max(1 << 20).default(256 * 1024),
  /** Connect timeout per server in milliseconds. */
  connectTimeoutMs: z.number().int().positive().default(5000),
}).strict();

/** Options of a client as given by a caller. */
export type ClientOptions = z.input<typeof ClientOptionsSchema>;

/**
 * Remote memory (Scalevisor): memory servers export a pool; clients obtain regions
 * `{ remote_addr, remote_rkey, remote_len }`. Alloc and free are one-sided (the client manages the slice each server
 * granted at connect); read and write are two-sided requests the server serves, over one transport interface (TCP
 * here, verbs where an RDMA device exists).
 *
 * ```ts
 * await using server = RmemServer.start({ poolBytes: 64 << 20 });
 * await using client = await RmemClient.connect({ servers: [server.endpoint], bytesPerServer: 16 << 20 });
 * const r = client.alloc(4096);
 * await client.write(r, 0, new Uint8Array(4096).fill(7));
 * const back = await client.read(r);
 * client.free(r);
 * ```
 * @module
 */
export { type LostMemory, type RemoteRegion, RmemClient, type ServerUsage } from "./client.ts";
export { PoolExhaustedError, RemoteMemoryLostError, RmemRemoteError } from "./errors.ts";
export { RmemServer, type ServerStats } from "./server.ts";
export { type ClientOptions, ClientOptionsSchema, type ServerOptions, ServerOptionsSchema } from "./schema.ts";
export { StreamChannel } from "./stream_channel.ts";
export { connectTcp, tcpTransport } from "./tcp_transport.ts";
export { verbsTransport } from "./verbs_transport.ts";
export { VerbsStream } from "./verbs_stream.ts";
export type { ChannelOptions, ChannelStats, RmemChannel, RmemTransport } from "./transport.ts";
export { type Grant, MAX_IO, Op, type QpInfo, Status, statusName } from "./wire.ts";
export { RangeAllocator, type RangeStats } from "./range_allocator.ts";
export { serverCommand, type ServerProcess, type ServerProcessOptions, startServerProcess } from "./spawn.ts";
export { parseSize } from "./size.ts";

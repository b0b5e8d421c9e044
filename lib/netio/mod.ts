/**
 * Socket plumbing shared by the binary protocols (rmem, NBD): a receive queue sockets read straight into and a
 * writer that batches outgoing messages into few writes, and the accept/close lifecycle of their TCP servers.
 * @module
 */
export { ByteQueue } from "./byte_queue.ts";
export { BatchWriter, type Writable } from "./batch_writer.ts";
export { type Readable, StreamReader } from "./stream_reader.ts";
export type { ByteStream } from "./byte_stream.ts";
export { type Closable, TcpService } from "./tcp_service.ts";

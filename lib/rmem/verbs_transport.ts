/**
 * The verbs transport: the same channel protocol as TCP, carried over an RDMA RC queue pair. The client connects a
 * TCP control connection to the server's endpoint, exchanges queue-pair info with VERBS_CONNECT, then runs the
 * channel over the queue pair; the control connection stays open as the liveness signal (its end ends the stream,
 * so a dead server still fails reads loudly). Without an RDMA device, connect raises one MissingError.
 * @module
 */
import { MissingError } from "../core/errors.ts";
import { ByteQueue, StreamReader } from "../netio/mod.ts";
import { rdmaUnavailable } from "../rdma/mod.ts";
import { RmemRemoteError } from "./errors.ts";
import { StreamChannel } from "./stream_channel.ts";
import { connectTcp } from "./tcp_transport.ts";
import type { RmemTransport } from "./transport.ts";
import { VerbsStream } from "./verbs_stream.ts";
import {
  decodeQpInfo,
  decodeReply,
  encodeQpInfo,
  encodeRequest,
  Op,
  QP_INFO_BYTES,
  REP_HEADER,
  REP_MAGIC,
  REQ_HEADER,
  Status,
} from "./wire.ts";

/** Ends `stream` when the control connection closes. */
async function watchControl(control: Deno.TcpConn, reader: StreamReader, stream: VerbsStream): Promise<void> {
  try {
    while (await reader.more()) reader.queue.consume(reader.queue.length);
  } catch { /* reset */ }
  stream.end();
  try {
    control.close();
  } catch { /* closed */ }
}

/** The verbs transport (RDMA where a device exists). */
export const verbsTransport: RmemTransport = {
  name: "verbs",
  async connect(endpoint, options) {
    const missing = rdmaUnavailable();
    if (missing) throw new MissingError(`rmem verbs transport: ${missing}`, "use the tcp transport on this machine");
    const control = await connectTcp(endpoint, options.timeoutMs);
    let stream: VerbsStream | undefined;
    try {
      stream = new VerbsStream();
      const frame = new Uint8Array(REQ_HEADER + QP_INFO_BYTES);
      encodeRequest(frame, 0, Op.VERBS_CONNECT, 1, 0, 0n, QP_INFO_BYTES);
      frame.set(encodeQpInfo(stream.local), REQ_HEADER);
      let off = 0;
      while (off < frame.length) off += await control.write(frame.subarray(off));
      const reader = new StreamReader(control, new ByteQueue(4096));
      const head = await reader.take(REP_HEADER);
      if (!head) throw new RmemRemoteError(endpoint, Status.PROTOCOL, "closed during VERBS_CONNECT");
      const h = decodeReply(head, 0);
      const body = h.magic === REP_MAGIC ? await reader.take(h.len) : null;
      if (!body) throw new RmemRemoteError(endpoint, Status.PROTOCOL, "bad VERBS_CONNECT reply");
      if (h.status !== Status.OK) throw new RmemRemoteError(endpoint, h.status, new TextDecoder().decode(body));
      stream.connect(decodeQpInfo(body));
      watchControl(control, reader, stream);
      const channel = await StreamChannel.open(endpoint, stream, options);
      channel.closed.then(() => {
        try {
          control.close();
        } catch { /* closed */ }
      });
      return channel;
    } catch (e) {
      stream?.close();
      try {
        control.close();
      } catch { /* closed */ }
      throw e;
    }
  },
};

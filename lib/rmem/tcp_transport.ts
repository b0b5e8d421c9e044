/** The TCP transport: works everywhere; the channel protocol runs over one TCP connection with Nagle off. */
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { splitEndpoint } from "./schema.ts";
import { StreamChannel } from "./stream_channel.ts";
import type { RmemTransport } from "./transport.ts";

/** Connects to `endpoint` within `timeoutMs`; a refused or unreachable server is a HyperlabError naming it. */
export async function connectTcp(endpoint: string, timeoutMs: number): Promise<Deno.TcpConn> {
  const { host, port } = splitEndpoint(endpoint);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname: host, port, transport: "tcp" });
  const conn = await Promise.race([
    connecting,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        connecting.then((c) => c.close(), () => {});
        reject(new TimeoutError(`connect to rmem server ${endpoint}`, timeoutMs));
      }, timeoutMs);
    }),
  ]).catch((e) => {
    if (e instanceof TimeoutError) throw e;
    throw new HyperlabError("rmem-connect", `cannot connect to rmem server ${endpoint}: ${(e as Error).message}`);
  }).finally(() => clearTimeout(timer));
  conn.setNoDelay(true);
  return conn;
}

/** The TCP transport. */
export const tcpTransport: RmemTransport = {
  name: "tcp",
  connect: async (endpoint, options) =>
    StreamChannel.open(endpoint, await connectTcp(endpoint, options.timeoutMs), options),
};

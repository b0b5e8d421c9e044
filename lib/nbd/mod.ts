/**
 * A remote-memory block device served over the real NBD protocol (fixed newstyle; READ, WRITE, FLUSH, TRIM,
 * WRITE_ZEROES, DISC): a QEMU guest gets a disk backed by other nodes' memory with
 * `-drive file=nbd://host:port/<export>,format=raw`.
 *
 * ```ts
 * await using client = await RmemClient.connect({ servers: ["node2:7400"], bytesPerServer: 1 << 30 });
 * await using nbd = NbdServer.start({ port: 10809, exports: { swap: new RmemBlockDevice(client, 512 << 20) } });
 * console.log(nbd.url("swap"));
 * ```
 * @module
 */
export { type BlockBackend, BlockIoError } from "./backend.ts";
export { BLOCK, type DeviceUsage, RmemBlockDevice } from "./rmem_device.ts";
export { NbdServer, type NbdServerOptions } from "./server.ts";
export type { TransmissionStats } from "./transmission.ts";
export { Cmd, NbdErr, Opt, Rep } from "./protocol.ts";

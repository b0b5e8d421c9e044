/**
 * RDMA verbs over libibverbs (ffi/verbs.c): devices, ports, protection domains, memory regions, completion queues
 * and reliable-connected queue pairs. Every object is Disposable and closes its children first:
 *
 * ```ts
 * using dev = openDevice();            // MissingError when this machine has no RDMA
 * const pd = dev.allocPd();
 * const cq = dev.createCq(64);
 * const mr = pd.registerMemory(new Uint8Array(1 << 20), ["local-write", "remote-read", "remote-write"]);
 * const qp = pd.createRcQp(cq, cq);
 * qp.toInit(1); qp.toRtr(peer, { mtu: 1024 }); qp.toRts(myPsn);
 * qp.postRdmaRead(1n, mr.slice(0, 4096), peerAddr, peerRkey);
 * await cq.wait();
 * ```
 * @module
 */
export { ACCESS, type Access, accessMask } from "./access.ts";
export { CompletionQueue } from "./cq.ts";
export { listDevices, openDevice, RdmaDevice, rdmaUnavailable } from "./device.ts";
export { MemoryRegion, ProtectionDomain } from "./pd.ts";
export { type QpEndpoint, QueuePair, type QueuePairOptions, type RtrOptions } from "./qp.ts";
export { VerbsResource } from "./resource.ts";
export type { DeviceAttr, PortAttr, WorkCompletion } from "./structs.ts";

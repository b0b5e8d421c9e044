/** The verbs layer without a device: the shim builds and loads, the absent case is one MissingError, and the
 * struct decoders, access masks and close ordering behave. */
import assert from "node:assert/strict";
import { InputError, MissingError } from "../../../lib/core/errors.ts";
import { accessMask, listDevices, openDevice, rdmaUnavailable, VerbsResource } from "../../../lib/rdma/mod.ts";
import { verbsShim } from "../../../lib/rdma/ffi.ts";
import { decodeDeviceAttr, decodePortAttr, decodeWcs } from "../../../lib/rdma/structs.ts";

Deno.test("verbs shim: builds, loads with every symbol; no device gives one MissingError naming the cause", () => {
  const sym = verbsShim();
  assert.equal(typeof sym.hl_verbs_post_send, "function");
  assert.equal(typeof sym.hl_verbs_wait_cq, "function");
  const reason = rdmaUnavailable();
  if (reason === null) {
    assert.ok(listDevices().length > 0, "a device exists: listDevices returns it");
    return;
  }
  assert.throws(() => listDevices(), (e) => e instanceof MissingError && e.message === reason && !!e.hint);
  assert.throws(() => openDevice(), (e) => e instanceof MissingError && /no RDMA/.test(e.message));
  console.log(`verbs absent here, as expected: ${reason}`);
});

Deno.test("verbs structs: device, port and completion layouts decode at the offsets the C shim pins", () => {
  const d = new Uint8Array(144);
  const dv = new DataView(d.buffer);
  dv.setBigUint64(0, 0x0002c90300a1b2c3n, true);
  dv.setUint32(24, 0x15b3, true);
  dv.setInt32(36, 131072, true);
  dv.setUint32(72, 2, true);
  d.set(new TextEncoder().encode("16.35.2000"), 76);
  const a = decodeDeviceAttr(d);
  assert.deepEqual([a.nodeGuid, a.vendorId, a.maxQp, a.physPortCnt, a.fwVer], [
    0x0002c90300a1b2c3n,
    0x15b3,
    131072,
    2,
    "16.35.2000",
  ]);
  const p = new Uint8Array(48);
  new DataView(p.buffer).setUint32(24, 7, true);
  new DataView(p.buffer).setUint32(32, 2, true);
  const pa = decodePortAttr(p);
  assert.deepEqual([pa.lid, pa.linkLayer], [7, 2]);
  const w = new Uint8Array(64);
  const wv = new DataView(w.buffer);
  wv.setBigUint64(32, 99n, true);
  wv.setUint32(40, 12, true);
  wv.setUint32(48, 4096, true);
  const wcs = decodeWcs(w, 2);
  assert.deepEqual([wcs[1].wrId, wcs[1].status, wcs[1].byteLen], [99n, 12, 4096]);
});

Deno.test("verbs access masks: names map to ibv_access_flags, unknown names are InputErrors", () => {
  assert.equal(accessMask(["local-write", "remote-read", "remote-write"]), 7);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => accessMask(["remote-exec" as any]), (e) => e instanceof InputError && e.field === "access");
});

class Probe extends VerbsResource {
  readonly kind: string;
  constructor(name: string, parents: VerbsResource[], readonly log: string[]) {
    super(1n, parents);
    this.kind = name;
  }
  protected release(): void {
    this.log.push(this.kind);
  }
  use(): bigint {
    return this.handle;
  }
}

Deno.test("verbs resources: children close before parents, a QP before either CQ, close is idempotent", () => {
  const log: string[] = [];
  const ctx = new Probe("ctx", [], log);
  const pd = new Probe("pd", [ctx], log);
  const cq = new Probe("cq", [ctx], log);
  const mr = new Probe("mr", [pd], log);
  const qp = new Probe("qp", [pd, cq], log);
  ctx.close();
  ctx.close();
  assert.equal(log.at(-1), "ctx");
  assert.ok(log.indexOf("qp") < log.indexOf("cq") && log.indexOf("qp") < log.indexOf("pd"));
  assert.ok(log.indexOf("mr") < log.indexOf("pd"));
  assert.equal(log.length, 5, "each released exactly once");
  assert.throws(() => qp.use(), /used after close/);
  assert.ok(mr.closed);
});

import assert from "node:assert/strict";
import { moduleDepends, moduleName } from "../../../lib/lab/kernel_modules.ts";
import { extractVmlinux } from "../../../lib/lab/kernel_package.ts";

Deno.test("modules: names are normalised and depends= is read from .modinfo strings", () => {
  assert.equal(moduleName("virtio-net"), "virtio_net");
  assert.equal(moduleName("virtio_pci.ko"), "virtio_pci");
  assert.equal(moduleName("nbd.ko.xz"), "nbd");
  const enc = new TextEncoder();
  const ko = enc.encode("\x7fELF....\0license=GPL\0depends=virtio,net_failover\0name=virtio_net\0");
  assert.deepEqual(moduleDepends(ko), ["virtio", "net_failover"]);
  assert.deepEqual(moduleDepends(enc.encode("\0license=GPL\0depends=\0name=virtio\0")), []);
  assert.deepEqual(moduleDepends(enc.encode("no modinfo here")), []);
});

Deno.test("kernel: a bzImage without an xz payload gives no vmlinux (the bzImage is booted instead)", async () => {
  assert.equal(await extractVmlinux(new Uint8Array(1024)), null);
});

import assert from "node:assert/strict";
import { MissingError } from "../../../lib/core/errors.ts";
import { check, ErrnoError, errnoName, errnoNumber } from "../../../lib/ffi/errno.ts";
import { kvmShim } from "../../../lib/kvm/ffi.ts";
import { kvmFacts } from "../../../lib/kvm/facts.ts";
import { needPath, skipIf } from "../../_helpers.ts";

Deno.test("check() turns -errno into a typed error with operation, errno name and message", () => {
  assert.equal(check("op", 5), 5);
  assert.equal(check("op", 7n), 7n);
  assert.throws(() => check("KVM_RUN", -9), (e: unknown) => {
    return e instanceof ErrnoError && e.op === "KVM_RUN" && e.errno === 9 && e.errnoName === "EBADF" &&
      e.message === "KVM_RUN: EBADF (Bad file descriptor)";
  });
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(4095), "E4095");
  assert.equal(errnoNumber("ENOENT"), 2);
});

Deno.test("the KVM shim reports EBADF for a bad fd, through the loader's single handle", () => {
  const k = kvmShim();
  assert.equal(k, kvmShim(), "one library handle per process");
  assert.throws(
    () => check("KVM_GET_API_VERSION", k.hl_kvm_api_version(-1)),
    (e: unknown) => e instanceof ErrnoError && e.errnoName === "EBADF",
  );
});

Deno.test("KVM host facts on a machine without the device: one clear MissingError naming it", () => {
  assert.throws(
    () => kvmFacts("/dev/hyperlab-no-kvm"),
    (e: unknown) => e instanceof MissingError && e.message.includes("/dev/hyperlab-no-kvm"),
  );
});

Deno.test({
  name: "KVM host facts on this machine: API version 12 and core capabilities",
  ignore: skipIf(needPath("/dev/kvm", "KVM")),
  fn() {
    const f = kvmFacts();
    assert.equal(f.apiVersion, 12);
    assert.ok(f.vcpuMmapSize >= 4096);
    assert.equal(f.caps.USER_MEMORY, 1);
    assert.ok(f.caps.NR_MEMSLOTS > 0);
  },
});

import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { cloneMicroVm, guestImage, GuestMemory, MicroVm } from "../../../lib/kvm/mod.ts";

function inputError(field: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    if (typeof field === "string") assert.equal(e.field, field);
    else assert.match(e.field, field);
    assert.match(e.message, /expected/);
    return true;
  };
}

Deno.test("micro-VM options are checked before any KVM object exists", () => {
  assert.throws(() => MicroVm.boot({ guest: "hello64", memoryMiB: 1 }), inputError("memoryMiB"));
  assert.throws(() => MicroVm.boot({ guest: "hello64", memoryMiB: 2.5 }), inputError("memoryMiB"));
  assert.throws(() => MicroVm.boot({ guest: "hello64", params: [1, -2] }), inputError("params[1]"));
  assert.throws(() => MicroVm.boot({ guest: "hello64", fork: "sometimes" as "pause" }), inputError("fork"));
  assert.throws(() => MicroVm.boot({ guest: { image: new Uint8Array(), mode: "long" } }), inputError("guest.image"));
  assert.throws(
    () => MicroVm.boot({ guest: { image: new Uint8Array([0xf4]), mode: "v86" as "real" } }),
    inputError("guest.mode"),
  );
  assert.throws(() => guestImage("nosuch" as "fork"), inputError("guest"));
});

Deno.test("guest memory size must be a positive multiple of 4096", () => {
  assert.throws(() => GuestMemory.create(0), inputError("size"));
  assert.throws(() => GuestMemory.create(4097), inputError("size"));
});

Deno.test("cloneMicroVm rejects a bad child count", () => {
  assert.throws(() => cloneMicroVm({} as MicroVm, 0), inputError("n"));
  assert.throws(() => cloneMicroVm({} as MicroVm, 1.5), inputError("n"));
});

import assert from "node:assert/strict";
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { MissingError } from "../../../lib/core/errors.ts";
import { check } from "../../../lib/ffi/errno.ts";
import { FFI_DIR, loadShimFrom } from "../../../lib/ffi/loader.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

/** Copies ffi/ (without build/) to `dest`, restricted to the KVM shim plus `extraMk` through shims.mk. */
function copyFfi(dest: string, extraMk = ""): void {
  for (const e of Deno.readDirSync(FFI_DIR)) {
    if (e.name !== "build") cpSync(join(FFI_DIR, e.name), join(dest, e.name), { recursive: true });
  }
  Deno.writeTextFileSync(join(dest, "shims.mk"), `SHIMS := kvm\n${extraMk}`);
}

Deno.test({
  name: "loader builds a missing shim on first use and returns one handle per library",
  ignore: skipIf(needCommand("make") ?? needCommand("cc", "gcc")),
  fn() {
    using dir = tempDir();
    copyFfi(dir.path);
    const so = join(dir.path, "build", "libkvm.so");
    assert.ok(!existsSync(so));
    const symbols = { hl_kvm_api_version: { parameters: ["i32"], result: "i32" } } as const;
    const lib = loadShimFrom(dir.path, "kvm", symbols);
    assert.ok(existsSync(so), "built by make on first use");
    assert.equal(loadShimFrom(dir.path, "kvm", symbols), lib);
    assert.throws(() => check("KVM_GET_API_VERSION", lib.symbols.hl_kvm_api_version(-1)), /EBADF/);
  },
});

Deno.test({
  name: "make -C ffi skips a shim whose header is missing, with a message, and does not fail",
  ignore: skipIf(needCommand("make")),
  fn() {
    using dir = tempDir();
    copyFfi(dir.path, "SHIMS += ghost\nSHIM_ghost_HDR := hyperlab/no-such-header.h\n");
    const out = new Deno.Command("make", { args: ["-C", dir.path], stdout: "piped", stderr: "piped" }).outputSync();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.match(text, /skipping ghost: header <hyperlab\/no-such-header\.h> not found/);
    assert.ok(existsSync(join(dir.path, "build", "libkvm.so")));
  },
});

Deno.test("loading a shim that cannot be built is one MissingError with make's output", () => {
  using dir = tempDir();
  copyFfi(dir.path);
  assert.throws(
    () => loadShimFrom(dir.path, "ghost", { f: { parameters: [], result: "i32" } } as const),
    (e: unknown) => e instanceof MissingError && /FFI shim ghost could not be built/.test(e.message),
  );
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeCpio } from "../../../lib/lab/image_cpio.ts";
import { needCommand, skipIf, tempDir } from "../../_helpers.ts";

const enc = new TextEncoder();

Deno.test({
  name: "cpio: the host's cpio extracts what writeCpio wrote (files, modes, symlinks, dirs)",
  ignore: skipIf(needCommand("cpio")),
  async fn() {
    using dir = tempDir();
    const archive = writeCpio([
      { kind: "dir", path: "etc" },
      { kind: "file", path: "etc/hello", data: enc.encode("hi there\n"), mode: 0o640 },
      { kind: "file", path: "bin/run", data: enc.encode("#!/bin/sh\necho 1\n"), mode: 0o755 },
      { kind: "dir", path: "bin" },
      { kind: "symlink", path: "bin/sh", target: "busybox" },
      { kind: "file", path: "odd", data: new Uint8Array([1, 2, 3]) },
    ]);
    const archivePath = join(dir.path, "a.cpio");
    await Deno.writeFile(archivePath, archive);
    const out = join(dir.path, "out");
    await Deno.mkdir(out);
    const r = await new Deno.Command("sh", {
      args: ["-c", `cpio -id --quiet --no-absolute-filenames < ${archivePath}`],
      cwd: out,
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    assert.equal(await Deno.readTextFile(join(out, "etc/hello")), "hi there\n");
    assert.equal((await Deno.stat(join(out, "etc/hello"))).mode! & 0o777, 0o640);
    assert.equal((await Deno.stat(join(out, "bin/run"))).mode! & 0o777, 0o755);
    assert.equal(await Deno.readLink(join(out, "bin/sh")), "busybox");
    assert.deepEqual(await Deno.readFile(join(out, "odd")), new Uint8Array([1, 2, 3]));
  },
});

Deno.test("cpio: output is deterministic and independent of entry order", () => {
  const a = writeCpio([
    { kind: "file", path: "b", data: enc.encode("2") },
    { kind: "file", path: "a", data: enc.encode("1") },
  ]);
  const b = writeCpio([
    { kind: "file", path: "a", data: enc.encode("1") },
    { kind: "file", path: "b", data: enc.encode("2") },
  ]);
  assert.deepEqual(a, b);
  assert.equal(new TextDecoder().decode(a.subarray(0, 6)), "070701");
  assert.equal(a.length % 4, 0);
  assert.ok(new TextDecoder().decode(a).includes("TRAILER!!!"));
});

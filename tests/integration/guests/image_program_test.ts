/** The project's own guest programs: compiled statically into the cache, reused until the source changes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HyperlabError, InputError } from "../../../lib/core/errors.ts";
import { buildInitramfs, buildStaticProgram } from "../../../lib/lab/guests_mod.ts";
import { needCommand, needPath, skipIf, tempDir } from "../../_helpers.ts";

Deno.test({
  name: "static program: built with gcc -static, cached by source, goes into an image with no libraries",
  ignore: skipIf(needCommand("gcc") ?? needPath("/usr/lib/x86_64-linux-gnu/libc.a", "libc6-dev (libc.a)")),
  async fn() {
    using tmp = tempDir();
    const prev = Deno.env.get("HYPERLAB_CACHE");
    Deno.env.set("HYPERLAB_CACHE", join(tmp.path, "cache"));
    try {
      const src = join(tmp.path, "hello.c");
      await Deno.writeTextFile(src, '#include <stdio.h>\nint main(void){puts("hello from " NAME);return 7;}\n');
      const spec = { name: "hello", sources: [src], cflags: ['-DNAME="guest"'] };
      const p = await buildStaticProgram(spec);
      assert.equal(p.cached, false);
      assert.equal((await buildStaticProgram(spec)).cached, true);
      const run = await new Deno.Command(p.path, { stdout: "piped" }).output();
      assert.equal(run.code, 7);
      assert.equal(new TextDecoder().decode(run.stdout), "hello from guest\n");
      const ldd = await new Deno.Command("ldd", { args: [p.path], stdout: "piped", stderr: "piped" }).output();
      assert.match(new TextDecoder().decode(ldd.stdout) + new TextDecoder().decode(ldd.stderr), /not a dynamic/);

      const img = await buildInitramfs({
        init: "#!/bin/sh\n/usr/bin/hello\n",
        files: [{ path: "/usr/bin/hello", source: p.path, mode: 0o755 }],
      });
      const list = await new Deno.Command("sh", {
        args: ["-c", `zcat '${img.path}' | cpio -tv --quiet`],
        stdout: "piped",
      }).output();
      assert.match(new TextDecoder().decode(list.stdout), /-rwxr-xr-x .* usr\/bin\/hello\n/);

      await Deno.writeTextFile(src, "int main(void){return 0;}\n");
      assert.equal((await buildStaticProgram(spec)).cached, false, "rebuilt when the source changes");

      await Deno.writeTextFile(src, "int main(void){ return nope; }\n");
      await assert.rejects(buildStaticProgram(spec), (e: unknown) => {
        assert.ok(e instanceof HyperlabError && e.code === "compile", String(e));
        assert.match(e.message, /nope/);
        return true;
      });
      await assert.rejects(
        buildStaticProgram({ name: "x", sources: [join(tmp.path, "missing.c")] }),
        (e: unknown) => e instanceof InputError && e.field === "sources[0]",
      );
      await assert.rejects(
        buildStaticProgram({ name: "x", sources: ["rel.c"] }),
        (e: unknown) => e instanceof InputError && e.field === "sources[0]",
      );
    } finally {
      if (prev === undefined) Deno.env.delete("HYPERLAB_CACHE");
      else Deno.env.set("HYPERLAB_CACHE", prev);
    }
  },
});

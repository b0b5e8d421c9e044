import assert from "node:assert/strict";
import { GlibcRandom } from "../../../lib/hypersio/glibc_rand.ts";
import { skipIf } from "../../_helpers.ts";

Deno.test("glibc rand: srand(1) starts with the well-known sequence", () => {
  const g = new GlibcRandom(1);
  assert.deepEqual([g.rand(), g.rand(), g.rand(), g.rand()], [1804289383, 846930886, 1681692777, 1714636915]);
});

function libc():
  | Deno.DynamicLibrary<{ srand: { parameters: ["u32"]; result: "void" }; rand: { parameters: []; result: "i32" } }>
  | null {
  try {
    return Deno.dlopen("libc.so.6", {
      srand: { parameters: ["u32"], result: "void" },
      rand: { parameters: [], result: "i32" },
    });
  } catch {
    return null;
  }
}

const lib = libc();
Deno.test({
  name: "glibc rand: equals this machine's libc rand() for several seeds (via FFI)",
  ignore: skipIf(lib ? null : "libc.so.6 not loadable (not a glibc system)"),
  fn() {
    for (const seed of [1, 0, 7, 2026, 0xffffffff]) {
      lib!.symbols.srand(seed);
      const g = new GlibcRandom(seed);
      for (let i = 0; i < 20000; i++) assert.equal(g.rand(), lib!.symbols.rand(), `seed ${seed} step ${i}`);
    }
    lib!.close();
  },
});

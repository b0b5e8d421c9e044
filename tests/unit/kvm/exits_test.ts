import assert from "node:assert/strict";
import { decodeExit, describeExit, EXIT, EXIT_WORDS } from "../../../lib/kvm/exits.ts";

function words(...w: number[]): Uint32Array {
  const a = new Uint32Array(EXIT_WORDS);
  a.set(w);
  return a;
}

Deno.test("exit decoding: io out and in carry port, size, count and data", () => {
  assert.deepEqual(decodeExit(words(EXIT.IO, 1, 4, 0x500, 0x1234, 0, 1)), {
    kind: "io",
    direction: "out",
    size: 4,
    port: 0x500,
    count: 1,
    data: 0x1234,
  });
  const e = decodeExit(words(EXIT.IO, 0, 1, 0x3fd, 0, 0, 1));
  assert.equal(e.kind === "io" && e.direction, "in");
});

Deno.test("exit decoding: mmio, hlt, shutdown, fail-entry, internal error, unknown", () => {
  assert.deepEqual(decodeExit(words(EXIT.MMIO, 1, 4, 0, 0x78, 0, 0x400000, 1)), {
    kind: "mmio",
    isWrite: true,
    len: 4,
    data: 0x78n,
    address: 0x1_0040_0000n,
  });
  assert.deepEqual(decodeExit(words(EXIT.HLT)), { kind: "hlt" });
  assert.deepEqual(decodeExit(words(EXIT.SHUTDOWN)), { kind: "shutdown" });
  assert.deepEqual(decodeExit(words(EXIT.FAIL_ENTRY, 0, 0, 0, 0x21, 0, 3)), {
    kind: "fail-entry",
    hardwareReason: 0x21n,
    cpu: 3,
  });
  assert.deepEqual(decodeExit(words(EXIT.INTERNAL_ERROR, 1, 1, 0, 5, 0, 9, 0)), {
    kind: "internal-error",
    suberror: 1,
    data: [5n],
  });
  assert.deepEqual(decodeExit(words(99)), { kind: "unknown", reason: 99 });
  assert.match(describeExit(decodeExit(words(99))), /unknown exit 99/);
  assert.match(describeExit(decodeExit(words(EXIT.IO, 1, 1, 0x3f8, 0x41))), /io out port 0x3f8/);
});

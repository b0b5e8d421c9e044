/** Wire framing and the clients' input checks. */
import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { checkPath, checkPerms } from "../../../lib/xenstore/client_base.ts";
import { MessageReader } from "../../../lib/xenstore/daemon/connection.ts";
import { parsePerm } from "../../../lib/xenstore/perms.ts";
import { parseVirtflexGuest } from "../../../lib/xenstore/daemon/main.ts";
import {
  decodeHeader,
  encodeMessage,
  nulStrings,
  splitStrings,
  XS_ERRORS,
  XsType,
} from "../../../lib/xenstore/wire.ts";

Deno.test("wire: header is four little-endian u32; messages split across chunks reassemble", () => {
  const m = encodeMessage(XsType.WRITE, 0x01020304, 5, nulStrings("/a", "b"));
  assert.deepEqual([...m.subarray(0, 16)], [11, 0, 0, 0, 4, 3, 2, 1, 5, 0, 0, 0, 5, 0, 0, 0]);
  assert.deepEqual(decodeHeader(m), { type: 11, reqId: 0x01020304, txId: 5, len: 5 });
  const r = new MessageReader();
  const two = new Uint8Array([...m, ...encodeMessage(XsType.READ, 9, 0, nulStrings("/a"))]);
  assert.deepEqual(r.push(two.subarray(0, 7)), []);
  const got = [...r.push(two.subarray(7, 30)), ...r.push(two.subarray(30))];
  assert.deepEqual(got.map((x) => [x.type, x.reqId, splitStrings(x.payload)]), [[11, 0x01020304, ["/a", "b"]], [2, 9, [
    "/a",
  ]]]);
  const huge = encodeMessage(XsType.READ, 1, 0, new Uint8Array());
  new DataView(huge.buffer).setUint32(12, 5000, true);
  assert.throws(() => new MessageReader().push(huge), RangeError);
});

Deno.test("wire: constants match xs_wire.h", () => {
  assert.equal(XsType.DIRECTORY_PART, 22);
  assert.equal(XsType.RESET_WATCHES, 21);
  assert.equal(XS_ERRORS.EAGAIN, 11);
  assert.equal(Object.keys(XS_ERRORS).length, 16);
});

Deno.test("inputs: bad paths and permissions are InputErrors naming the field", () => {
  for (const bad of ["", "a\0b", 42, "x".repeat(3073)]) {
    assert.throws(() => checkPath(bad), (e) => e instanceof InputError && e.field === "path");
  }
  assert.throws(() => checkPerms([]), (e) => e instanceof InputError && e.field === "perms");
  assert.throws(
    () => checkPerms([{ id: 0, access: "b" }, { id: -1, access: "r" }]),
    (e) => e instanceof InputError && e.field === "perms[1]",
  );
  assert.deepEqual(parsePerm("b"), { access: "b", id: 0 });
  assert.deepEqual(parsePerm("r12"), { access: "r", id: 12 });
  for (const bad of ["x1", "r-1", "b70000", ""]) {
    assert.throws(() => parsePerm(bad, "--perm"), (e) => e instanceof InputError && e.field === "--perm");
  }
});

Deno.test("xenstored --virtflex-guest spec parses; bad specs name the flag", () => {
  assert.deepEqual(parseVirtflexGuest("3:ubu-pv0:2x4096:2"), {
    domid: 3,
    name: "ubu-pv0",
    nodes: 2,
    mbPerNode: 4096,
    vcpusPerNode: 2,
  });
  for (const bad of ["0:a:1x1:1", "3:a:0x1:1", "3::2x4:1", "3:a:2x4", "x"]) {
    assert.throws(() => parseVirtflexGuest(bad), (e) => e instanceof InputError && e.field === "--virtflex-guest");
  }
});

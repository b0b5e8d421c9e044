import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { assertPortFree, freePort, portIsFree } from "../../../lib/lab/qemu_ports.ts";

Deno.test("ports: a picked port is free; a listened-on port is reported in use with the field named", () => {
  const p = freePort();
  assert.ok(p > 0 && portIsFree(p));
  const l = Deno.listen({ hostname: "127.0.0.1", port: p });
  try {
    assert.equal(portIsFree(p), false);
    assert.throws(() => assertPortFree(p, "network.sshPort"), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.field, "network.sshPort");
      assert.match(e.message, /free TCP port .* in use/);
      return true;
    });
  } finally {
    l.close();
  }
});

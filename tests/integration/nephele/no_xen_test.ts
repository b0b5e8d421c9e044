/**
 * The Nephele playbook against a real node without Xen (this machine, as a `local` inventory node): it must stop at
 * preflight with a message naming what is missing, and create nothing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli } from "../../_cli.ts";
import { skipIf, tempDir } from "../../_helpers.ts";

Deno.test({
  name: "nephele/xen-clone on a machine without Xen stops at preflight naming xl and /dev/xen/privcmd",
  ignore: skipIf(existsSync("/dev/xen/privcmd") ? "this machine is a Xen dom0" : null),
  async fn() {
    using d = tempDir();
    Deno.writeTextFileSync(join(d.path, "inv.yaml"), "nodes:\n  - { name: here, host: 127.0.0.1, local: true }\n");
    const r = await cli("play", [
      "nephele/xen-clone",
      "--inventory",
      join(d.path, "inv.yaml"),
      "--xencloned-log",
      join(d.path, "xencloned.log"),
      "--results",
      join(d.path, "r.db"),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /here is not a Xen dom0 that Nephele can use: missing .*\/dev\/xen\/privcmd \(not running as a Xen dom0\)/,
    );
    assert.ok(!existsSync(join(d.path, "xencloned.log")), "nothing after preflight ran");
  },
});

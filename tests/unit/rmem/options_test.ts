import assert from "node:assert/strict";
import { InputError } from "../../../lib/core/errors.ts";
import { parseSize, RmemClient, RmemServer, serverCommand } from "../../../lib/rmem/mod.ts";

Deno.test("rmem options: bad server and client options name the field", async () => {
  assert.throws(() => RmemServer.start({ poolBytes: -1 }), (e) => e instanceof InputError && e.field === "poolBytes");
  assert.throws(
    () => RmemServer.start({ poolBytes: 1 << 20, pageSize: 1000 }),
    (e) => e instanceof InputError && e.field === "pageSize" && /power of two/.test(e.message),
  );
  await assert.rejects(
    RmemClient.connect({ servers: ["nohost"], bytesPerServer: 4096 }),
    (e) => e instanceof InputError && e.field === "servers[0]" && /host:port/.test(e.message),
  );
  await assert.rejects(
    RmemClient.connect({ servers: ["127.0.0.1:99999"], bytesPerServer: 4096 }),
    (e) => e instanceof InputError && /port between/.test(e.message),
  );
  await assert.rejects(
    RmemClient.connect({ servers: [], bytesPerServer: 4096 }),
    (e) => e instanceof InputError && e.field === "servers",
  );
  await assert.rejects(
    RmemClient.connect({ servers: ["a:1", "a:1"], bytesPerServer: 4096 }),
    (e) => e instanceof InputError && e.field === "servers" && /distinct/.test(e.message),
  );
});

Deno.test("rmem options: sizes and server command lines", () => {
  assert.equal(parseSize("4096", "x"), 4096);
  assert.equal(parseSize("64K", "x"), 65536);
  assert.equal(parseSize("2g", "x"), 2 * 1024 ** 3);
  assert.throws(() => parseSize("12Q", "--pool"), (e) => e instanceof InputError && e.field === "--pool");
  assert.throws(() => serverCommand({ pool: "lots" }), (e) => e instanceof InputError && e.field === "pool");
  const argv = serverCommand({ pool: "1G", host: "0.0.0.0", port: 7400, projectRoot: "/opt/hyperlab" });
  assert.deepEqual(argv.slice(1), [
    "run",
    "-A",
    "--quiet",
    "/opt/hyperlab/lib/rmem/server_main.ts",
    "--pool",
    "1G",
    "--host",
    "0.0.0.0",
    "--port",
    "7400",
  ]);
});

/**
 * Quickstart probe: the embedded xenstored (real xenstore wire protocol) driven through Xen's own libxenstore via
 * the FFI shim: write/read round trips and one watch event.
 */
import { join } from "node:path";
import { EmbeddedXenstored, openXenstore } from "../../lib/xenstore/mod.ts";

/** Round trips per second (read) through libxenstore against the embedded daemon. */
export async function xenstoreRoundTrips(n: number): Promise<{ readsPerSec: number; value: string | undefined }> {
  const dir = await Deno.makeTempDir({ prefix: "hyperlab-quickstart-xs-" });
  const socketPath = join(dir, "socket");
  try {
    await using _daemon = await EmbeddedXenstored.start({ socketPath });
    await using xs = await openXenstore({ socketPath });
    await xs.write("/quickstart/hello", "world");
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await xs.read("/quickstart/hello");
    const readsPerSec = n / ((performance.now() - t0) / 1000);
    return { readsPerSec, value: await xs.read("/quickstart/hello") };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

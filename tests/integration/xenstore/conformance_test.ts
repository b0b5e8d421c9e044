/**
 * The same xenstore cases against every daemon within reach, compared line by line: the embedded xenstored through
 * libxenstore (our shim) and through the pure-TS client, and — when a Xen dom0 is reachable (the Xen lab host;
 * set HYPERLAB_XEN_XENSTORED to its socket, or "default" inside dom0) — Xen's own xenstored.
 */
import assert from "node:assert/strict";
import { compareConformance, LibXenstoreClient, runConformance, XsWireClient } from "../../../lib/xenstore/mod.ts";
import { needPath, skipIf } from "../../_helpers.ts";
import { startDaemon } from "./_daemon.ts";

const noLibxen = needPath("/usr/include/xenstore.h", "libxen-dev (xenstore.h)");
const xenSocket = Deno.env.get("HYPERLAB_XEN_XENSTORED");

Deno.test({
  name: "conformance: libxenstore and the wire client see the same embedded xenstored",
  ignore: skipIf(noLibxen),
}, async () => {
  await using f = await startDaemon();
  const viaLib = await runConformance(() => LibXenstoreClient.open(f.socket));
  const viaWire = await runConformance(() => XsWireClient.connect(f.socket));
  assert.deepEqual(compareConformance(viaLib, viaWire), []);
  const flat = viaLib.flatMap((r) => r.transcript.map((l) => `${r.name}: ${l}`));
  // Semantics of Xen's C xenstored (xenstored_core.c) that clients rely on:
  for (
    const line of [
      "read/write/list/rm: read missing: ok/undefined",
      "read/write/list/rm: rm missing child: ok/undefined",
      "read/write/list/rm: rm missing parent: ENOENT",
      'implicit parents and mkdir: read parent: ""',
      'implicit parents and mkdir: list order: ["p","m"]',
      "invalid paths: double slash: EINVAL",
      "invalid paths: special in read: EINVAL",
      "invalid paths: rm root: EINVAL",
      'permissions: child inherits: [{"access":"b","id":0},{"access":"r","id":5}]',
      'transactions: outside before commit: "0"',
      "transactions: conflicting commit: EAGAIN",
      "watches: initial: <base>/w tk",
      "watches: removal: <base>/w tk",
      "watches: duplicate: EEXIST",
      "watches: unwatch again: ENOENT",
      "sizes and long directories: 300 children listed in order: true",
    ]
  ) assert.ok(flat.includes(line), `expected "${line}" in\n${flat.join("\n")}`);
});

Deno.test({
  name: "conformance: Xen's xenstored answers like the embedded one",
  ignore: skipIf(
    noLibxen ??
      (xenSocket
        ? null
        : "needs Xen's xenstored (Xen lab host): set HYPERLAB_XEN_XENSTORED=<socket> or =default in dom0"),
  ),
}, async () => {
  await using f = await startDaemon();
  const embedded = await runConformance(() => LibXenstoreClient.open(f.socket));
  const xen = await runConformance(() => LibXenstoreClient.open(xenSocket === "default" ? undefined : xenSocket));
  assert.deepEqual(compareConformance(embedded, xen), []);
});

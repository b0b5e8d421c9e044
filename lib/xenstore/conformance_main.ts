/**
 * `deno run -A lib/xenstore/conformance_main.ts --against SOCKET|default [--via libxenstore|wire]`: runs the
 * xenstore conformance cases against a fresh embedded xenstored and against another daemon (e.g. Xen's own in a
 * dom0: `--against default`), prints both transcripts side by side and exits 1 when they differ.
 * @module
 */
import { parseArgs } from "node:util";
import { InputError } from "../core/errors.ts";
import { compareConformance, runConformance } from "./conformance.ts";
import { EmbeddedXenstored } from "./daemon/server.ts";
import { LibXenstoreClient } from "./libxenstore_client.ts";
import type { XenstoreClient } from "./types.ts";
import { XsWireClient } from "./wire_client.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    options: { against: { type: "string" }, via: { type: "string", default: "libxenstore" } },
  });
  if (!values.against) throw new InputError("--against", "a xenstored socket path, or default (libxenstore's choice)");
  if (values.via !== "libxenstore" && values.via !== "wire") {
    throw new InputError("--via", "libxenstore or wire", values.via);
  }
  const opener = (socket: string | undefined) => (): Promise<XenstoreClient> =>
    values.via === "wire"
      ? XsWireClient.connect(socket ?? Deno.env.get("XENSTORED_PATH") ?? "/run/xenstored/socket")
      : LibXenstoreClient.open(socket);
  const dir = await Deno.makeTempDir({ prefix: "hyperlab-xs-conformance-" });
  try {
    await using daemon = await EmbeddedXenstored.start({ socketPath: `${dir}/xenstored.sock` });
    const embedded = await runConformance(opener(daemon.socketPath));
    const other = await runConformance(opener(values.against === "default" ? undefined : values.against));
    for (const r of embedded) {
      console.log(`\n== ${r.name}`);
      const o = other.find((x) => x.name === r.name)?.transcript ?? [];
      r.transcript.forEach((line, i) => {
        const mark = line === o[i] ? " " : "≠";
        console.log(`${mark} ${line.padEnd(60)} | ${o[i] ?? "(missing)"}`);
      });
    }
    const diffs = compareConformance(embedded, other);
    console.log(
      `\n${diffs.length ? `${diffs.length} difference(s)` : "identical"}: embedded xenstored vs ${values.against}`,
    );
    if (diffs.length) Deno.exitCode = 1;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Helper process of hypersio-trace: `parse <log>` streams a log through the constructor's parser (the byte parser,
 * with parseLogLine for the lines it hands back), `build <prefix> <outDir>` builds an 8-tenant trace; either prints
 * this process's peak RSS (VmHWM, bytes) so memory is measured per fresh process.
 */
import { decodeLine, forEachLineChunk } from "../../lib/hypersio/line_reader.ts";
import { LINE_FALLBACK, LineFields, parseLogBytes } from "../../lib/hypersio/log_line_bytes.ts";
import { buildTrace, parseLogLine } from "../../lib/hypersio/mod.ts";

const [mode, a, b] = Deno.args;
if (mode === "parse") {
  const f = new LineFields();
  await forEachLineChunk(a, (buf, start, end) => {
    for (let at = start; at < end; at = f.next) {
      if (parseLogBytes(buf, at, f) === LINE_FALLBACK) parseLogLine(decodeLine(buf, at, f.lineEnd, 2));
    }
  });
} else await buildTrace({ logPrefix: a, tenants: 8, outDir: b, name: "mem" });
const hwm = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
console.log(hwm ? Number(hwm[1]) * 1024 : -1);

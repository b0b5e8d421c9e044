/**
 * Helper process of hypersio-trace: `parse <log>` streams a log through the parser, `build <prefix> <outDir>` builds
 * an 8-tenant trace; either prints this process's peak RSS (VmHWM, bytes) so memory is measured per fresh process.
 */
import { buildTrace, forEachLine, parseLogLine } from "../../lib/hypersio/mod.ts";

const [mode, a, b] = Deno.args;
if (mode === "parse") await forEachLine(a, (l) => void parseLogLine(l));
else await buildTrace({ logPrefix: a, tenants: 8, outDir: b, name: "mem" });
const hwm = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
console.log(hwm ? Number(hwm[1]) * 1024 : -1);

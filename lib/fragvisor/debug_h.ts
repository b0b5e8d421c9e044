/**
 * The per-node edits of the Popcorn kernel tree's `include/popcorn/debug.h` (not `include/linux/popcorn/debug.h`, as
 * the seed README says): only the origin keeps `#define CONFIG_POPCORN_ORIGIN_NODE`; `PERF_EXP` set to 1 for
 * measurements. Both as shell commands (what runs on a node) and as a pure text edit (to test the commands against).
 * @module
 */
import { shQuote } from "../remote/mod.ts";

/** Path of debug.h relative to the kernel tree. */
export const DEBUG_H = "include/popcorn/debug.h";
/** The define only the origin keeps. */
export const ORIGIN_DEFINE = "#define CONFIG_POPCORN_ORIGIN_NODE";

/** What debug.h should say on one node. */
export interface DebugHOptions {
  /** True on the origin (node 0): the define stays. */
  origin: boolean;
  /** Sets `#define PERF_EXP 1` (measurements). */
  perfExp?: boolean;
}

/** The sed expression that drops the origin define (exactly the seed's). */
export const DROP_ORIGIN_SED = "s/#define CONFIG_POPCORN_ORIGIN_NODE//";
/** The sed expression that turns PERF_EXP on. */
export const PERF_EXP_SED = "s/^#define[[:space:]]\\{1,\\}PERF_EXP[[:space:]]\\{1,\\}[0-9]\\{1,\\}/#define PERF_EXP 1/";

/**
 * Shell commands (run with the kernel tree as working directory) that put debug.h into the state `opts` asks for,
 * then check it: a non-origin node fails if the define survived; the origin fails if the define is missing (a tree
 * edited for another node was copied to it).
 */
export function debugHCommands(opts: DebugHOptions): string[] {
  const f = shQuote(DEBUG_H);
  const out: string[] = [];
  if (!opts.origin) out.push(`sed -i ${shQuote(DROP_ORIGIN_SED)} ${f}`);
  if (opts.perfExp) out.push(`sed -i ${shQuote(PERF_EXP_SED)} ${f}`);
  if (opts.origin) {
    out.push(
      `if ! grep -q ${shQuote("^" + ORIGIN_DEFINE)} ${f}; then echo ${
        shQuote(`origin ${DEBUG_H} lacks ${ORIGIN_DEFINE}`)
      } >&2; exit 3; fi`,
    );
  } else {
    out.push(
      `if grep -q ${shQuote(ORIGIN_DEFINE)} ${f}; then echo ${
        shQuote(`${ORIGIN_DEFINE} left in ${DEBUG_H} on a non-origin node`)
      } >&2; exit 3; fi`,
    );
  }
  return out;
}

/** The same edit applied to debug.h's text (what the sed commands produce). */
export function editDebugH(text: string, opts: DebugHOptions): string {
  let t = text;
  if (!opts.origin) t = t.replaceAll(ORIGIN_DEFINE, "");
  if (opts.perfExp) t = t.replace(/^#define[ \t]+PERF_EXP[ \t]+\d+/gm, "#define PERF_EXP 1");
  return t;
}

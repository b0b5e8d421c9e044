/**
 * xenstore conformance cases: the same operations run against any xenstored (the embedded one, or Xen's own in a
 * Xen dom0) and recorded as a transcript of outcomes, so two daemons can be compared line by line. Everything is
 * done below one base path, which is removed afterwards.
 * @module
 */
import { ErrnoError } from "../ffi/errno.ts";
import type { XenstoreClient } from "./types.ts";

/** One case: returns its transcript lines. */
export interface ConformanceCase {
  name: string;
  run(xs: XenstoreClient, base: string, second: XenstoreClient): Promise<string[]>;
}

/** Outcome of a call as a transcript word: its value, `ok`, or the errno name. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    return v === undefined ? "ok/undefined" : JSON.stringify(v);
  } catch (e) {
    return e instanceof ErrnoError ? e.errnoName : `error ${(e as Error).message}`;
  }
}

/** The cases. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  {
    name: "read/write/list/rm",
    async run(xs, b) {
      return [
        `write: ${await outcome(xs.write(`${b}/a`, "1"))}`,
        `read: ${await outcome(xs.read(`${b}/a`))}`,
        `read missing: ${await outcome(xs.read(`${b}/missing`))}`,
        `list: ${await outcome(xs.list(b))}`,
        `rm: ${await outcome(xs.rm(`${b}/a`))}`,
        `read removed: ${await outcome(xs.read(`${b}/a`))}`,
        `rm missing child: ${await outcome(xs.rm(`${b}/gone`))}`,
        `rm missing parent: ${await outcome(xs.rm(`${b}/no/such`))}`,
      ];
    },
  },
  {
    name: "implicit parents and mkdir",
    async run(xs, b) {
      return [
        `write deep: ${await outcome(xs.write(`${b}/p/q/r`, "v"))}`,
        `read parent: ${await outcome(xs.read(`${b}/p/q`))}`,
        `list parent: ${await outcome(xs.list(`${b}/p`))}`,
        `mkdir: ${await outcome(xs.mkdir(`${b}/m`))}`,
        `mkdir again: ${await outcome(xs.mkdir(`${b}/m`))}`,
        `read mkdir: ${await outcome(xs.read(`${b}/m`))}`,
        `list order: ${await outcome(xs.list(b))}`,
      ];
    },
  },
  {
    name: "invalid paths",
    async run(xs, b) {
      return [
        `double slash: ${await outcome(xs.write(`${b}//x`, "1"))}`,
        `trailing slash: ${await outcome(xs.write(`${b}/x/`, "1"))}`,
        `bad character: ${await outcome(xs.write(`${b}/x y`, "1"))}`,
        `special in read: ${await outcome(xs.read("@introduceDomain"))}`,
        `rm root: ${await outcome(xs.rm("/"))}`,
      ];
    },
  },
  {
    name: "permissions",
    async run(xs, b) {
      return [
        `write: ${await outcome(xs.write(`${b}/perm`, "1"))}`,
        `set: ${await outcome(xs.setPerms(`${b}/perm`, [{ id: 0, access: "b" }, { id: 5, access: "r" }]))}`,
        `get: ${await outcome(xs.getPerms(`${b}/perm`))}`,
        `child: ${await outcome(xs.write(`${b}/perm/child`, "c"))}`,
        `child inherits: ${await outcome(xs.getPerms(`${b}/perm/child`))}`,
        `set missing: ${await outcome(xs.setPerms(`${b}/nope`, [{ id: 0, access: "b" }]))}`,
      ];
    },
  },
  {
    name: "transactions",
    async run(xs, b, other) {
      const out: string[] = [];
      await xs.write(`${b}/t`, "0");
      const t1 = await xs.transactionStart();
      out.push(`read in tx: ${await outcome(xs.read(`${b}/t`, { tx: t1 }))}`);
      out.push(`write in tx: ${await outcome(xs.write(`${b}/t`, "1", { tx: t1 }))}`);
      out.push(`outside before commit: ${await outcome(other.read(`${b}/t`))}`);
      out.push(`commit: ${await outcome(xs.transactionEnd(t1, true))}`);
      out.push(`after commit: ${await outcome(other.read(`${b}/t`))}`);
      const t2 = await xs.transactionStart();
      await xs.read(`${b}/t`, { tx: t2 });
      await xs.write(`${b}/t`, "2", { tx: t2 });
      await other.write(`${b}/t`, "9");
      out.push(`conflicting commit: ${await outcome(xs.transactionEnd(t2, true))}`);
      out.push(`value kept: ${await outcome(xs.read(`${b}/t`))}`);
      const t3 = await xs.transactionStart();
      await xs.write(`${b}/t3`, "x", { tx: t3 });
      out.push(`abort: ${await outcome(xs.transactionEnd(t3, false))}`);
      out.push(`aborted write: ${await outcome(xs.read(`${b}/t3`))}`);
      return out;
    },
  },
  {
    name: "watches",
    async run(xs, b, other) {
      const out: string[] = [];
      const ev = async () => {
        const e = await xs.nextEvent(2000);
        return e ? `${e.path.replace(b, "<base>")} ${e.token}` : "none";
      };
      out.push(`watch: ${await outcome(xs.watch(`${b}/w`, "tk"))}`);
      out.push(`initial: ${await ev()}`);
      await other.write(`${b}/w/x/y`, "1");
      out.push(`subtree: ${await ev()}`);
      await other.rm(`${b}/w`);
      out.push(`removal: ${await ev()}`);
      out.push(`duplicate: ${await outcome(xs.watch(`${b}/w`, "tk"))}`);
      out.push(`unwatch: ${await outcome(xs.unwatch(`${b}/w`, "tk"))}`);
      out.push(`unwatch again: ${await outcome(xs.unwatch(`${b}/w`, "tk"))}`);
      await other.write(`${b}/w/z`, "1");
      const late = await xs.nextEvent(200);
      out.push(`after unwatch: ${late ? late.path : "none"}`);
      return out;
    },
  },
  {
    name: "sizes and long directories",
    async run(xs, b) {
      const names = Array.from({ length: 300 }, (_, i) => `entry-with-a-longish-name-${i}`);
      for (const n of names) await xs.write(`${b}/d/${n}`, "");
      const listed = await xs.list(`${b}/d`);
      const big = "v".repeat(4000);
      return [
        `300 children listed in order: ${JSON.stringify(listed) === JSON.stringify(names)}`,
        `4000-byte value: ${await outcome(xs.write(`${b}/big`, big))}`,
        `read back equal: ${(await xs.read(`${b}/big`)) === big}`,
      ];
    },
  },
];

/** Transcript of one case. */
export interface ConformanceResult {
  name: string;
  transcript: string[];
}

/**
 * Runs every case with fresh clients from `open` (two per case: one acting, one concurrent) under `base`,
 * removing `base` before and after.
 */
export async function runConformance(
  open: () => Promise<XenstoreClient>,
  base = "/hyperlab-conformance",
): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const c of CONFORMANCE_CASES) {
    const xs = await open();
    const other = await open();
    try {
      await xs.rm(base);
      results.push({ name: c.name, transcript: await c.run(xs, base, other) });
    } finally {
      await xs.rm(base).catch(() => {});
      await xs.close();
      await other.close();
    }
  }
  return results;
}

/** Lines where two transcripts differ, as `case: a ≠ b`. Empty when they agree. */
export function compareConformance(a: ConformanceResult[], b: ConformanceResult[]): string[] {
  const diffs: string[] = [];
  for (const ra of a) {
    const rb = b.find((r) => r.name === ra.name);
    if (!rb) {
      diffs.push(`${ra.name}: missing on the other side`);
      continue;
    }
    const n = Math.max(ra.transcript.length, rb.transcript.length);
    for (let i = 0; i < n; i++) {
      if (ra.transcript[i] !== rb.transcript[i]) diffs.push(`${ra.name}: ${ra.transcript[i]} ≠ ${rb.transcript[i]}`);
    }
  }
  return diffs;
}

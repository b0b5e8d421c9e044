/**
 * xencloned's log lines (nephele-vm/xen `tools/xenclone/`): `notification ring=… entries_num=…` once cloning is
 * enabled, `cloned P -> C` per notification, `clone completion domid=<C> msec=<t>` when a child is complete, and a
 * failed enable (`-EBUSY`: cloning was left enabled by an earlier xencloned; reset with `xencloned -R`).
 * @module
 */

/** One completed clone. */
export interface CloneCompletion {
  domid: number;
  msec: number;
}

/** What xencloned's log says so far. */
export interface XenclonedLog {
  /** The notification ring line, when seen. */
  ring?: { ring: string; entries: number };
  /** `cloned P -> C` pairs in order. */
  cloned: { parent: number; child: number }[];
  completions: CloneCompletion[];
  /** The enable failed with EBUSY (stale enable). */
  busy: boolean;
  /** Lines that look like errors (for messages). */
  errors: string[];
}

/** Parses xencloned's output. */
export function parseXenclonedLog(text: string): XenclonedLog {
  const out: XenclonedLog = { cloned: [], completions: [], busy: false, errors: [] };
  for (const line of text.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /notification ring\s*=\s*(\S+?)[,\s]+entries_num\s*=\s*(\d+)/.exec(line))) {
      out.ring = { ring: m[1], entries: Number(m[2]) };
    } else if ((m = /cloned\s+(\d+)\s*->\s*(\d+)/.exec(line))) {
      out.cloned.push({ parent: Number(m[1]), child: Number(m[2]) });
    } else if ((m = /clone completion domid\s*=\s*(\d+)\s+msec\s*=\s*(\d+(?:\.\d+)?)/.exec(line))) {
      out.completions.push({ domid: Number(m[1]), msec: Number(m[2]) });
    } else if (/EBUSY|Device or resource busy|\(-16\)|errno[= ]16\b/i.test(line)) {
      out.busy = true;
      out.errors.push(line.trim());
    } else if (/error|failed|cannot/i.test(line)) {
      out.errors.push(line.trim());
    }
  }
  return out;
}

/** Mean, min and max of completion times (undefined when none). */
export function completionStats(
  c: readonly CloneCompletion[],
): { n: number; mean: number; min: number; max: number } | undefined {
  if (c.length === 0) return undefined;
  const ms = c.map((x) => x.msec);
  return { n: ms.length, mean: ms.reduce((a, b) => a + b, 0) / ms.length, min: Math.min(...ms), max: Math.max(...ms) };
}

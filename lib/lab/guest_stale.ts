/**
 * Runtime directories of guests whose controller died without cleanup (SIGKILL, power loss): each directory holds
 * `owner.pid` (and `qemu.pid`); when the owner process is gone, the next guest start kills the orphaned QEMU (if
 * setpriv did not already) and removes the directory.
 * @module
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "../core/process.ts";

/** Prefix of guest runtime directories under the temp dir. */
export const RUN_DIR_PREFIX = "hyperlab-guest-";

/** Records this process as the owner of a runtime directory. */
export async function markOwner(dir: string): Promise<void> {
  await writeFile(join(dir, "owner.pid"), String(Deno.pid));
}

/** Records the QEMU process of a runtime directory. */
export async function markQemu(dir: string, pid: number): Promise<void> {
  await writeFile(join(dir, "qemu.pid"), String(pid));
}

/** Removes runtime directories whose owner process no longer exists; returns the removed paths. */
export async function sweepStaleRunDirs(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => n.startsWith(RUN_DIR_PREFIX));
  } catch {
    return removed;
  }
  for (const n of names) {
    const dir = join(root, n);
    const owner = Number((await readFile(join(dir, "owner.pid"), "utf8").catch(() => "")).trim());
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) continue;
    const qemu = Number((await readFile(join(dir, "qemu.pid"), "utf8").catch(() => "")).trim());
    if (Number.isInteger(qemu) && qemu > 0) {
      const cmdline = await readFile(`/proc/${qemu}/cmdline`, "utf8").catch(() => "");
      if (cmdline.includes("qemu-system") && cmdline.includes(dir)) {
        try {
          Deno.kill(qemu, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
    }
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * A writer for the `newc` cpio format the Linux kernel unpacks as initramfs. Entries are written in path order with
 * zero timestamps and fixed inode numbers, so the same inputs always give the same bytes (and the same hash).
 * @module
 */

/** One entry of an archive. Parent directories must be listed before their children (the writer sorts by path). */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "chardev"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Encodes entries (plus the trailer) as a newc archive. Paths are relative, without a leading slash. */
export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    total += b.length;
  };
  const header = (ino: number, mode: number, size: number, name: string, rmaj = 0, rmin = 0, nlink = 1) => {
    const nameBytes = enc.encode(name + "\0");
    const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameBytes.length, 0];
    push(enc.encode("070701" + fields.map(hex8).join("")));
    push(nameBytes);
    push(new Uint8Array(pad4(110 + nameBytes.length)));
  };
  const sorted = [...entries].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  let ino = 1;
  for (const e of sorted) {
    const path = e.path.replace(/^\/+/, "");
    switch (e.kind) {
      case "dir":
        header(ino++, S_IFDIR | (e.mode ?? 0o755), 0, path, 0, 0, 2);
        break;
      case "file":
        header(ino++, S_IFREG | (e.mode ?? 0o644), e.data.length, path);
        push(e.data);
        push(new Uint8Array(pad4(e.data.length)));
        break;
      case "symlink": {
        const t = enc.encode(e.target);
        header(ino++, S_IFLNK | 0o777, t.length, path);
        push(t);
        push(new Uint8Array(pad4(t.length)));
        break;
      }
      case "chardev":
        header(ino++, S_IFCHR | (e.mode ?? 0o600), 0, path, e.major, e.minor);
        break;
    }
  }
  header(0, 0, 0, "TRAILER!!!", 0, 0, 1);
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

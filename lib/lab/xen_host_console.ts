/**
 * The Xen lab host's serial console (Xen's and dom0's output on com1), written by QEMU to a file so it survives a
 * detached QEMU: read back, tailed, and waited on with a pattern (polling the file).
 * @module
 */
import { TimeoutError } from "../core/errors.ts";

/** A console file written by QEMU. */
export class FileConsole {
  /** The file. */
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  /** Everything written so far ("" before QEMU created the file). */
  text(): string {
    try {
      return Deno.readTextFileSync(this.path).replaceAll("\r", "");
    } catch {
      return "";
    }
  }

  /** Offset after everything written so far; pass as `since` to wait only for new output. */
  mark(): number {
    return this.text().length;
  }

  /** The last `lines` lines. */
  tail(lines = 25): string {
    return this.text().split("\n").slice(-lines - 1).join("\n").trimEnd();
  }

  /**
   * Waits until `re` appears after offset `since`. Fails with the console tail on timeout, or with `abort`'s reason
   * (e.g. QEMU exited).
   */
  async waitFor(
    re: RegExp,
    opts: { timeoutMs?: number; since?: number; abort?: AbortSignal; what?: string; pollMs?: number } = {},
  ): Promise<RegExpExecArray> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const flags = re.flags.replace("g", "").replace("y", "");
    for (;;) {
      const m = new RegExp(re.source, flags).exec(this.text().slice(opts.since ?? 0));
      if (m) return m;
      if (opts.abort?.aborted) throw opts.abort.reason;
      if (Date.now() >= deadline) {
        throw new TimeoutError(
          `${opts.what ?? this.path}: waiting for ${re}`,
          timeoutMs,
          `console tail:\n${this.tail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    }
  }
}

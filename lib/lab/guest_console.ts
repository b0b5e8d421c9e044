/**
 * A guest's serial console: QEMU's stdout is appended to a file, split into lines for the run log, and kept in
 * memory (the most recent 1 MiB) so callers can wait for a pattern.
 * @module
 */
import { TimeoutError } from "../core/errors.ts";

const KEEP = 1 << 20;

/** Captures one guest console. */
export class GuestConsole {
  /** File the whole console is written to. */
  readonly path: string;
  #text = "";
  #dropped = 0;
  #lineBuf = "";
  #listeners = new Set<() => void>();
  #ended = false;
  /** Resolves when the console stream ended (QEMU closed stdout). */
  readonly done: Promise<void>;

  /** Starts reading `stream` into `path`; `onLine` receives every complete line (without the newline). */
  constructor(stream: ReadableStream<Uint8Array>, path: string, onLine?: (line: string) => void) {
    this.path = path;
    this.done = this.#pump(stream, onLine);
  }

  async #pump(stream: ReadableStream<Uint8Array>, onLine?: (line: string) => void): Promise<void> {
    const file = await Deno.open(this.path, { create: true, append: true });
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        await file.write(chunk);
        const s = dec.decode(chunk, { stream: true }).replaceAll("\r", "");
        this.#text += s;
        if (this.#text.length > KEEP) {
          const cut = this.#text.length - KEEP;
          this.#text = this.#text.slice(cut);
          this.#dropped += cut;
        }
        this.#lineBuf += s;
        let nl: number;
        while ((nl = this.#lineBuf.indexOf("\n")) >= 0) {
          const line = this.#lineBuf.slice(0, nl);
          this.#lineBuf = this.#lineBuf.slice(nl + 1);
          try {
            onLine?.(line);
          } catch { /* a logging failure must not stop the capture */ }
        }
        for (const l of this.#listeners) l();
      }
    } catch {
      /* stream error: QEMU is gone */
    } finally {
      if (this.#lineBuf) onLine?.(this.#lineBuf);
      file.close();
      this.#ended = true;
      for (const l of this.#listeners) l();
    }
  }

  /** True once the stream ended (QEMU closed its stdout, normally because it exited). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Offset just after everything received so far; pass it as `since` to wait only for new output. */
  mark(): number {
    return this.#dropped + this.#text.length;
  }

  /** The console text kept in memory. */
  text(): string {
    return this.#text;
  }

  /** The last `lines` lines of the console. */
  tail(lines = 25): string {
    return this.#text.split("\n").slice(-lines - 1).join("\n").trimEnd();
  }

  /** Finds `re` in the console from offset `since`, or null. */
  find(re: RegExp, since = 0): RegExpExecArray | null {
    const from = Math.max(0, since - this.#dropped);
    const flags = re.flags.replace("g", "").replace("y", "");
    return new RegExp(re.source, flags).exec(this.#text.slice(from));
  }

  /**
   * Waits until `re` appears after offset `since` (default: anywhere). Rejects with a TimeoutError that carries the
   * console tail, with `abort`'s reason when it fires (e.g. QEMU exited), or when the console ends without a match.
   */
  waitFor(
    re: RegExp,
    options: { timeoutMs?: number; since?: number; abort?: AbortSignal; what?: string } = {},
  ): Promise<RegExpExecArray> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const what = options.what ?? `console of ${this.path}`;
    return new Promise((resolve, reject) => {
      let ended = false;
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        options.abort?.removeEventListener("abort", onAbort);
        fn();
      };
      const check = () => {
        const m = this.find(re, options.since ?? 0);
        if (m) return finish(() => resolve(m));
        if (ended) {
          finish(() =>
            reject(new TimeoutError(`${what}: waiting for ${re}`, 0, `console ended; tail:\n${this.tail()}`))
          );
        }
      };
      const onAbort = () => finish(() => reject(options.abort?.reason));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new TimeoutError(`${what}: waiting for ${re}`, timeoutMs, `console tail:\n${this.tail()}`))
          ),
        timeoutMs,
      );
      this.done.then(() => {
        ended = true;
        check();
      });
      if (options.abort?.aborted) return onAbort();
      options.abort?.addEventListener("abort", onAbort, { once: true });
      this.#listeners.add(check);
      check();
    });
  }
}

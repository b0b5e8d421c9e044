/**
 * Bounded output capture: keeps at most `maxBytes` of the tail of a stream plus byte and line counts, and hands
 * complete lines (capped in length and number) to a callback for streaming to the log.
 * @module
 */

/** Captures one stream (stdout or stderr) of a command. */
export class OutputCapture {
  readonly maxBytes: number;
  #chunks: Uint8Array[] = [];
  #held = 0;
  /** Bytes seen in total. */
  totalBytes = 0;
  /** Newlines seen in total. */
  totalLines = 0;
  #partial = "";
  #decoder = new TextDecoder();
  #linesEmitted = 0;
  #linesSuppressed = 0;
  #endsInNewline = true;
  readonly #onLine?: (line: string) => void;
  readonly #maxLines: number;
  readonly #maxLineLength: number;

  constructor(
    opts: { maxBytes?: number; onLine?: (line: string) => void; maxLines?: number; maxLineLength?: number } = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 1 << 20;
    this.#onLine = opts.onLine;
    this.#maxLines = opts.maxLines ?? 2000;
    this.#maxLineLength = opts.maxLineLength ?? 2000;
  }

  /** Feeds a chunk. */
  push(chunk: Uint8Array): void {
    this.totalBytes += chunk.byteLength;
    if (chunk.byteLength) this.#endsInNewline = chunk[chunk.byteLength - 1] === 10;
    for (const b of chunk) if (b === 10) this.totalLines++;
    const c = chunk.byteLength > this.maxBytes ? chunk.subarray(chunk.byteLength - this.maxBytes) : chunk;
    this.#chunks.push(new Uint8Array(c));
    this.#held += c.byteLength;
    while (this.#held > this.maxBytes) {
      const over = this.#held - this.maxBytes;
      const first = this.#chunks[0];
      if (first.byteLength <= over) {
        this.#chunks.shift();
        this.#held -= first.byteLength;
      } else {
        this.#chunks[0] = first.subarray(over);
        this.#held -= over;
      }
    }
    if (this.#onLine) this.#lines(this.#decoder.decode(chunk, { stream: true }));
  }

  #lines(text: string): void {
    if (this.#linesEmitted >= this.#maxLines) {
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.#linesSuppressed++;
      return;
    }
    const s = this.#partial + text;
    const parts = s.split("\n");
    this.#partial = parts.pop() ?? "";
    if (this.#partial.length > this.#maxLineLength * 4) this.#partial = this.#partial.slice(-this.#maxLineLength);
    for (const line of parts) this.#emit(line);
  }

  #emit(line: string): void {
    if (this.#linesEmitted >= this.#maxLines) {
      this.#linesSuppressed++;
      return;
    }
    this.#linesEmitted++;
    const l = line.length > this.#maxLineLength ? line.slice(0, this.#maxLineLength) + " [line truncated]" : line;
    this.#onLine!(l.replace(/\r$/, ""));
  }

  /** Flushes a last partial line and a note about suppressed lines. */
  end(): void {
    if (!this.#onLine) return;
    this.#lines(this.#decoder.decode());
    if (this.#partial) this.#emit(this.#partial);
    else if (this.#linesSuppressed > 0 && !this.#endsInNewline) this.#linesSuppressed++;
    this.#partial = "";
    if (this.#linesSuppressed > 0) {
      this.#onLine(`[${this.#linesSuppressed} more lines not logged; ${this.totalBytes} bytes in total]`);
    }
  }

  /** Bytes dropped from the front because of the bound. */
  get droppedBytes(): number {
    return this.totalBytes - this.#held;
  }

  /** The kept tail as text (prefixed with a note when the front was dropped). */
  text(): string {
    const all = new Uint8Array(this.#held);
    let o = 0;
    for (const c of this.#chunks) {
      all.set(c, o);
      o += c.byteLength;
    }
    const s = new TextDecoder().decode(all);
    return this.droppedBytes > 0 ? `[${this.droppedBytes} bytes dropped]\n${s}` : s;
  }

  /** The last `n` characters of the kept text. */
  tail(n = 2000): string {
    const t = this.text();
    return t.length > n ? t.slice(-n) : t;
  }
}

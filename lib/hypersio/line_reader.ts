/**
 * Streams a text file line by line in fixed-size chunks, so a multi-gigabyte log is never held in memory.
 * @module
 */

/** Calls `onLine(line, lineNo)` (1-based, without the newline, `\r` stripped) for each line of `path`. */
export async function forEachLine(
  path: string,
  onLine: (line: string, lineNo: number) => void,
  opts: { chunkBytes?: number; signal?: AbortSignal } = {},
): Promise<{ lines: number; bytes: number }> {
  using file = await Deno.open(path, { read: true });
  // 64 KiB chunks: the decoded text stays a young-generation string that dies quickly (1 MiB strings would go to
  // large-object space and pile up until a major GC, so RSS would grow with the log).
  const buf = new Uint8Array(opts.chunkBytes ?? 1 << 16);
  const decoder = new TextDecoder();
  let carry = "";
  let lineNo = 0;
  let bytes = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const n = await file.read(buf);
    if (n === null) break;
    bytes += n;
    const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      onLine(text.slice(start, end), ++lineNo);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.decode();
  if (carry.length) onLine(carry.endsWith("\r") ? carry.slice(0, -1) : carry, ++lineNo);
  return { lines: lineNo, bytes };
}

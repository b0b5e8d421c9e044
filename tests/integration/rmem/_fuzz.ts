/** Seeded randomness and a read-until-closed helper for the protocol fuzz tests (reproducible by seed). */

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random integer in [0, n). */
export function int(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** `n` random bytes. */
export function bytes(r: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => int(r, 256));
}

/** A few interesting 32-bit lengths. */
export function length32(r: () => number): number {
  const picks = [0, 1, 4095, 4096, 4097, 65536, 1 << 20, (1 << 20) + 1, 32 << 20, 0x7fffffff, 0xffffffff];
  return r() < 0.6 ? picks[int(r, picks.length)] : int(r, 1 << 16);
}

/**
 * Sends `data`, half-closes, and reads everything until the server closes. Returns the bytes, or throws when the
 * server neither closed nor finished within `timeoutMs`.
 */
export async function exchange(endpoint: string, data: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
  const i = endpoint.lastIndexOf(":");
  const conn = await Deno.connect({ hostname: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) });
  const chunks: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const work = (async () => {
      try {
        let off = 0;
        while (off < data.length) off += await conn.write(data.subarray(off));
        await conn.closeWrite();
      } catch { /* the server may close before taking everything: allowed */ }
      const buf = new Uint8Array(65536);
      while (true) {
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch {
          n = null; // reset by peer counts as closed
        }
        if (n === null) break;
        chunks.push(buf.slice(0, n));
      }
    })();
    await Promise.race([
      work,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error("server neither answered nor closed")), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

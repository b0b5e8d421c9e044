/**
 * Synthetic IOMMU logs in the reference-patched QEMU `log` format, for tests and benchmarks. SIMULATED: these are
 * not collected from a guest; they are generated so the constructor and model can be exercised at any size on a
 * machine without the reference's patched QEMU. Each tenant device `00:(2+i).0` gets a context entry, then DMA
 * translations over a working set of 4 KiB and 2 MiB pages (misses with their 3 walk reads, then hits); a
 * management NIC at `00:1c.0` and unrelated trace events are mixed in, as in real logs.
 * @module
 */
import { GlibcRandom } from "./glibc_rand.ts";

/** Shape of a synthetic log. */
export interface SyntheticLogOptions {
  /** Tenant devices in this log. */
  devices: number;
  /** Translation events per device. */
  translationsPerDevice: number;
  /** Distinct pages each device touches. Default 24. */
  pagesPerDevice?: number;
  /** Domain id of device i is `firstDomain + i`. Default 1. */
  firstDomain?: number;
  /** Seed of the deterministic generator. Default 1. */
  seed?: number;
  /** Write stock-QEMU lines (no level/pmask, no walk reads). Default false. */
  stock?: boolean;
}

const h = (n: number | bigint) => "0x" + n.toString(16);

/** Yields the log's lines (without newlines), interleaving devices randomly. */
export function* syntheticLogLines(o: SyntheticLogOptions): Generator<string> {
  const rng = new GlibcRandom(o.seed ?? 1);
  const pages = o.pagesPerDevice ?? 24;
  const first = o.firstDomain ?? 1;
  let usec = 0;
  const stamp = () => `4242@1590000000.${String(++usec % 1000000).padStart(6, "0")}:`;
  const left = new Array(o.devices).fill(o.translationsPerDevice);
  const seen: Set<number>[] = Array.from({ length: o.devices }, () => new Set());
  for (let i = 0; i < o.devices; i++) {
    const did = first + i;
    yield `${stamp()}vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn ${h((2 + i) << 3)} high ${
      h((did << 8) | 1)
    } ` +
      `low ${h(0xe00000001 + i * 0x1000000)} gen 0 -> gen 1`;
  }
  yield `${stamp()}vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0xe0 high 0x7f01 low 0xf00000001 gen 0 -> gen 1`;
  let active = o.devices;
  while (active > 0) {
    const i = rng.rand() % o.devices;
    if (left[i] === 0) continue;
    if (--left[i] === 0) active--;
    const did = first + i;
    const sid = (2 + i) << 3;
    const p = rng.rand() % pages;
    const big = p % 8 === 7;
    const level = big ? 2 : 1;
    const iova = big ? 0x40000000 + p * 0x200000 : 0x10000000 + p * 0x201000 + (rng.rand() % 64) * 0x40;
    const page = big ? iova & ~0x1fffff : iova & ~0xfff;
    const slpte = BigInt(0xe20000000 + i * 0x1000000 + (page & 0xffffff)) | (big ? 0x83n : 0x3n);
    if (rng.rand() % 16 === 0) {
      yield `${stamp()}vtd_iotlb_page_hit IOTLB page hit sid 0xe0 iova ${h(iova)} slpte 0x3 domain 0x7f`;
    }
    if (rng.rand() % 8 === 0) yield `${stamp()}vtd_reg_write_addr addr 0x${(0x20 + p).toString(16)} value 0x1`;
    if (!seen[i].has(page)) {
      seen[i].add(page);
      if (!o.stock) {
        const hi = (did << 8) | 1, lo = 0xe00000001 + i * 0x1000000;
        for (let l = 3; l >= level; l--) {
          const addr = 0xe00000000 + i * 0x1000000 + (3 - l) * 0x1000;
          yield `${stamp()}vtd_slpte_fetch SLPTE fetch: high ${h(hi)} low ${h(lo)} iova ${h(iova)} level ${h(l)} ` +
            `addr ${h(addr)} slpte ${h(l === level ? slpte : BigInt(addr + 0x1000) | 3n)}`;
        }
        yield `${stamp()}vtd_iotlb_page_update IOTLB page update sid ${h(sid)} iova ${h(iova)} slpte ${h(slpte)} ` +
          `level ${h(level)} domain ${h(did)}`;
      } else {
        yield `${stamp()}vtd_iotlb_page_update IOTLB page update sid ${h(sid)} iova ${h(iova)} slpte ${
          h(slpte)
        } domain ${h(did)}`;
      }
    } else {
      const pmask = big ? "0xffffffffffe00000" : "0xfffffffffffff000";
      yield o.stock
        ? `${stamp()}vtd_iotlb_page_hit IOTLB page hit sid ${h(sid)} iova ${h(iova)} slpte ${h(slpte)} domain ${h(did)}`
        : `${stamp()}vtd_iotlb_page_hit IOTLB page hit sid ${h(sid)} iova ${h(iova)} pmask ${pmask} slpte ${
          h(slpte)
        } ` +
          `domain ${h(did)}`;
    }
  }
}

/** Writes a synthetic log file (streamed, 1 MiB writes). Returns the number of lines. */
export async function writeSyntheticLog(path: string, o: SyntheticLogOptions): Promise<number> {
  using f = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let chunk: string[] = [];
  let size = 0, lines = 0;
  for (const line of syntheticLogLines(o)) {
    chunk.push(line);
    size += line.length + 1;
    lines++;
    if (size > 1 << 20) {
      await f.write(enc.encode(chunk.join("\n") + "\n"));
      chunk = [];
      size = 0;
    }
  }
  if (chunk.length) await f.write(enc.encode(chunk.join("\n") + "\n"));
  return lines;
}

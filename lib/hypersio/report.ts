/**
 * Text report of a model run in the reference's `PrintConfig`/`PrintStat` layout, so outputs can be compared
 * line by line with `hypersio-perf`.
 * @module
 */
import type { CacheStats } from "./cache.ts";
import type { ModelResult } from "./model.ts";

const RULE = "------------------------------------------";

function cacheBlock(s: CacheStats): string[] {
  return [
    RULE,
    `${s.name} Statistics`,
    RULE,
    `HIT               : ${s.hit}`,
    `MISS              : ${s.miss}`,
    `CONFLICT          : ${s.conflict}`,
    `# DOMAINS USED    : ${s.domains}`,
    "Row Stat :",
    `[${s.setAccesses.join(", ")}]`,
  ];
}

/** The report text. */
export function formatReport(r: ModelResult): string {
  const o = r.options;
  const out = [
    RULE,
    "SIOPERF Configuration",
    RULE,
    `TRANSL QUEUE ENTR : ${o.tqueue}`,
    `TRANSL QUEUE OOO  : ${o.inorder ? "NO" : "YES"}`,
    `SELECTIVE ALLOC   : ${o.salloc ? "YES" : "NO"}`,
    `IOTLB REPLACEMENT : ${o.iotlbRepl}`,
    `LINK Gb/s         : ${o.linkGbps}`,
    `QUIRKS            : ${Object.entries(o.quirks).map(([k, v]) => `${k}=${v ? "on" : "off"}`).join(" ")}`,
  ];
  for (const name of ["CC", "IOTLB", "L2PAGE", "L3PAGE"] as const) {
    const c = r.config[name];
    out.push(RULE, `${name} Configuration`, RULE, `SIZE              : ${c.size}`, `ASSOCIATIVITY     : ${c.assoc}`);
    out.push(`GROUPS            : ${c.groups}`);
  }
  out.push(
    RULE,
    `Time elapsed :        ${r.elapsedNs} ns`,
    `Requests translated:  ${r.translations}`,
    `Pkts dropped:         ${r.droppedPackets}`,
    `[Mb/s] for 1542B pkts: ${r.mbps}`,
    `Utilization:          ${(r.utilization * 100).toFixed(2)}%`,
    RULE,
    "Per Flow Statistics:",
  );
  for (const f of r.flows) {
    out.push(
      `DID: 0x${f.did.toString(16).padStart(6)}, Time: ${f.timeNs} ns, Trans #: ${
        String(f.translations).padStart(6)
      }, ` +
        `BW ${String(f.mbps).padStart(6)} Mb/s`,
    );
  }
  for (const s of Object.values(r.caches)) out.push(...cacheBlock(s));
  const p = r.prefetcher;
  out.push(
    "======================================================",
    "Prefetcher Statistics",
    "======================================================",
    `Accesses                   : ${p.accesses}`,
    `Correct SID Predictions    : ${p.correctPredictions}`,
    `Incorrect SID Predictions  : ${p.incorrectPredictions}`,
    `Predictions Made           : ${p.predictionsMade}`,
    `New SID mappings           : ${p.newSidMappings}`,
    `Trans to the same SID      : ${p.transToSameSid}`,
    `Trans to diff SID          : ${p.transToDiffSid}`,
    `Prefetch distance          : ${p.distance}`,
    `Addr history length        : ${p.historyLength}`,
    ...p.history.map((h) => `SID 0x${h.sid.toString(16)} History Stat      : h ${h.hit} m ${h.miss}`),
    "======================================================",
    "Prefetcher Buffer Statistics",
    "======================================================",
    `Buffer size                : ${p.bufferSize}`,
    `Fill the same entry        : ${p.fillSame}`,
    `Buffer fill                : ${p.bufferFill}`,
    `Buffer hit                 : ${p.bufferHit}`,
    `Buffer miss                : ${p.bufferMiss}`,
  );
  return out.join("\n") + "\n";
}

/** Parsers of `xl list`, `xl info` and `xl vcpu-list` output (xl 4.x text formats). */

/** One row of `xl list`. */
export interface XlListRow {
  name: string;
  id: number;
  memMiB: number;
  vcpus: number;
  /** Six flags: r(unning) b(locked) p(aused) s(hutdown) c(rashed) d(ying), `-` when unset. */
  state: string;
  timeS: number;
}

/** Parses `xl list`. Lines that do not match (header, warnings) are skipped. */
export function parseXlList(out: string): XlListRow[] {
  const rows: XlListRow[] = [];
  for (const line of out.split("\n")) {
    const m = /^(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-rbpscd]{6})\s+([\d.]+)\s*$/.exec(line);
    if (m) rows.push({ name: m[1], id: +m[2], memMiB: +m[3], vcpus: +m[4], state: m[5], timeS: +m[6] });
  }
  return rows;
}

/** `xl info` as typed highlights plus every raw key. */
export interface XlInfo {
  raw: Record<string, string>;
  xenVersion?: string;
  nrCpus?: number;
  nrNodes?: number;
  totalMemoryMiB?: number;
  freeMemoryMiB?: number;
}

/** Parses `xl info` (`key   : value` lines). */
export function parseXlInfo(out: string): XlInfo {
  const raw: Record<string, string> = {};
  let last = "";
  for (const line of out.split("\n")) {
    const m = /^(\w+)\s*:\s?(.*)$/.exec(line);
    if (m) raw[last = m[1]] = m[2].trim();
    else if (last && /^\s+\S/.test(line)) raw[last] += " " + line.trim();
  }
  const n = (k: string) => raw[k] !== undefined && /^\d+$/.test(raw[k]) ? Number(raw[k]) : undefined;
  const version = raw.xen_major !== undefined
    ? `${raw.xen_major}.${raw.xen_minor}${raw.xen_extra ?? ""}`
    : raw.xen_version;
  return {
    raw,
    xenVersion: version,
    nrCpus: n("nr_cpus"),
    nrNodes: n("nr_nodes"),
    totalMemoryMiB: n("total_memory"),
    freeMemoryMiB: n("free_memory"),
  };
}

/** One row of `xl vcpu-list`. */
export interface XlVcpuRow {
  name: string;
  id: number;
  vcpu: number;
  /** Physical CPU it runs on, or undefined when offline. */
  cpu?: number;
  state: string;
  timeS: number;
  hard: string;
  soft: string;
}

/** Parses `xl vcpu-list`. */
export function parseXlVcpuList(out: string): XlVcpuRow[] {
  const rows: XlVcpuRow[] = [];
  for (const line of out.split("\n")) {
    const m = /^(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+|-)\s+([-rbp]{3})\s+([\d.]+)\s+(\S+)\s*\/\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    rows.push({
      name: m[1],
      id: +m[2],
      vcpu: +m[3],
      cpu: m[4] === "-" ? undefined : +m[4],
      state: m[5],
      timeS: +m[6],
      hard: m[7],
      soft: m[8],
    });
  }
  return rows;
}

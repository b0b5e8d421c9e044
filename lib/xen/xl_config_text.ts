/**
 * xl's configuration syntax (libxlu): `key = value` lines, values are quoted strings, numbers or `[ … ]` lists
 * (nested for vnuma), `#` comments. `writeXlConfig` renders an XlConfig; `parseXlConfig` reads a file back into
 * one (round-trip safe), and `parseXlConfigText` gives the raw key/value map.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { validateXlConfig, type XlConfig } from "./xl_config.ts";

/** A raw xl value. */
export type XlValue = string | number | XlValue[];

function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function render(v: XlValue): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return quote(v);
  return `[ ${v.map(render).join(", ")} ]`;
}

/** Renders a config in xl syntax (validating it first). */
export function writeXlConfig(config: XlConfig): string {
  const c = validateXlConfig(config);
  const lines: string[] = [];
  const put = (k: string, v: XlValue | undefined) => {
    if (v !== undefined) lines.push(`${k} = ${render(v)}`);
  };
  put("name", c.name);
  put("type", c.type);
  put("memory", c.memory);
  put("maxmem", c.maxmem);
  put("vcpus", c.vcpus);
  put("maxvcpus", c.maxvcpus);
  put("cpus", c.cpus);
  put("kernel", c.kernel);
  put("ramdisk", c.ramdisk);
  put("cmdline", c.cmdline);
  put("disk", c.disk);
  put("vif", c.vif);
  put(
    "vnuma",
    c.vnuma?.map((
      n,
    ) => [`pnode=${n.pnode}`, `size=${n.size}`, `vcpus=${n.vcpus}`, `vdistances=${n.vdistances.join(",")}`]),
  );
  put("on_crash", c.on_crash);
  put("on_poweroff", c.on_poweroff);
  put("on_reboot", c.on_reboot);
  put("max_clones", c.max_clones === undefined ? undefined : String(c.max_clones));
  put("skip_cloning", c.skip_cloning?.join(";"));
  for (const [k, v] of Object.entries(c.extra ?? {})) put(k, v);
  return lines.join("\n") + "\n";
}

/** Parses xl syntax into a key → value map. Throws InputError naming the line. */
export function parseXlConfigText(text: string, source = "xl config"): Record<string, XlValue> {
  let i = 0, line = 1;
  const fail = (what: string): never => {
    throw new InputError(`${source}:${line}`, what, text.slice(i, i + 20));
  };
  const skip = (newlines: boolean) => {
    while (i < text.length) {
      const ch = text[i];
      if (ch === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else if (ch === " " || ch === "\t" || ch === "\r") i++;
      else if (newlines && (ch === "\n" || ch === ";")) {
        if (ch === "\n") line++;
        i++;
      } else break;
    }
  };
  const str = (): string => {
    const q = text[i++];
    let out = "";
    while (i < text.length && text[i] !== q) {
      if (text[i] === "\n") fail(`a closing ${q}`);
      if (text[i] === "\\" && q === '"') {
        const e = text[++i];
        out += e === "n" ? "\n" : e === "t" ? "\t" : e;
        i++;
      } else out += text[i++];
    }
    if (text[i] !== q) fail(`a closing ${q}`);
    i++;
    return out;
  };
  const value = (): XlValue => {
    skip(false);
    const ch = text[i];
    if (ch === '"' || ch === "'") return str();
    if (ch === "[") {
      i++;
      const items: XlValue[] = [];
      for (;;) {
        skip(true);
        if (text[i] === "]") {
          i++;
          return items;
        }
        items.push(value());
        skip(true);
        if (text[i] === ",") i++;
        else if (text[i] !== "]") fail(", or ]");
      }
    }
    const m = /^(0x[0-9a-fA-F]+|\d+)/.exec(text.slice(i));
    if (!m) return fail("a string, number or list");
    i += m[0].length;
    return Number(m[0]);
  };
  const out: Record<string, XlValue> = {};
  for (;;) {
    skip(true);
    if (i >= text.length) return out;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) fail("a key");
    i += m![0].length;
    skip(false);
    if (text[i] !== "=") fail("=");
    i++;
    out[m![0]] = value();
    skip(false);
    if (i < text.length && text[i] !== "\n" && text[i] !== ";") fail("end of line");
  }
}

const MODELLED = new Set([
  "name",
  "type",
  "memory",
  "maxmem",
  "vcpus",
  "maxvcpus",
  "cpus",
  "kernel",
  "ramdisk",
  "cmdline",
  "disk",
  "vif",
  "vnuma",
  "on_crash",
  "on_poweroff",
  "on_reboot",
  "max_clones",
  "skip_cloning",
]);

/** Parses xl syntax into a validated XlConfig (numbers given as strings, like `memory = "32"`, are accepted). */
export function parseXlConfig(text: string, source = "xl config"): XlConfig {
  const raw = parseXlConfigText(text, source);
  const num = (k: string) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v === "number") return v;
    if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
    throw new InputError(`${source}: ${k}`, "a number", v);
  };
  const str = (k: string) => {
    const v = raw[k];
    if (v === undefined || typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    throw new InputError(`${source}: ${k}`, "a string", v);
  };
  const strList = (k: string) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      throw new InputError(`${source}: ${k}`, "a list of strings", v);
    }
    return v as string[];
  };
  const vnuma = raw.vnuma === undefined ? undefined : parseVnuma(raw.vnuma, source);
  const extra: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (MODELLED.has(k)) continue;
    if (Array.isArray(v) && v.some((x) => typeof x !== "string")) {
      throw new InputError(`${source}: ${k}`, "a string, number or list of strings", v);
    }
    extra[k] = v as string | number | string[];
  }
  const skip = str("skip_cloning");
  const cfg: Record<string, unknown> = {
    name: str("name"),
    type: str("type"),
    memory: num("memory"),
    maxmem: num("maxmem"),
    vcpus: num("vcpus"),
    maxvcpus: num("maxvcpus"),
    cpus: str("cpus"),
    kernel: str("kernel"),
    ramdisk: str("ramdisk"),
    cmdline: str("cmdline"),
    disk: strList("disk"),
    vif: strList("vif"),
    vnuma,
    on_crash: str("on_crash"),
    on_poweroff: str("on_poweroff"),
    on_reboot: str("on_reboot"),
    max_clones: num("max_clones"),
    skip_cloning: skip === undefined ? undefined : skip.split(";").filter(Boolean),
    extra: Object.keys(extra).length ? extra : undefined,
  };
  for (const k of Object.keys(cfg)) if (cfg[k] === undefined) delete cfg[k];
  return validateXlConfig(cfg);
}

function parseVnuma(v: XlValue, source: string) {
  if (!Array.isArray(v)) throw new InputError(`${source}: vnuma`, "a list of node lists", v);
  return v.map((node, i) => {
    if (!Array.isArray(node)) {
      throw new InputError(`${source}: vnuma[${i}]`, 'a list like ["pnode=0","size=512",…]', node);
    }
    const kv: Record<string, string> = {};
    for (const item of node) {
      const m = typeof item === "string" ? /^(\w+)=(.*)$/.exec(item) : null;
      if (!m) throw new InputError(`${source}: vnuma[${i}]`, "key=value strings", item);
      kv[m[1]] = m[2];
    }
    return {
      pnode: Number(kv.pnode),
      size: Number(kv.size),
      vcpus: kv.vcpus,
      vdistances: (kv.vdistances ?? "").split(",").filter(Boolean).map(Number),
    };
  });
}

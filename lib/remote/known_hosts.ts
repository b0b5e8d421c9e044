/**
 * known_hosts parsing and host-key checks (OpenSSH format: plain and hashed host names, `[host]:port`, wildcards,
 * negation, `@revoked`).
 * @module
 */
import { createHmac } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  patterns: string[];
  keyType: string;
  /** Base64 of the public key blob. */
  key: string;
  revoked: boolean;
}

/** Outcome of checking a presented key. */
export type HostKeyVerdict = "match" | "mismatch" | "unknown" | "revoked";

/** The name OpenSSH uses in known_hosts for host and port. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parses known_hosts text; ignores comments, blank lines and @cert-authority lines. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const f = t.split(/\s+/);
    let revoked = false;
    if (f[0].startsWith("@")) {
      if (f[0] === "@revoked") revoked = true;
      else continue;
      f.shift();
    }
    if (f.length < 3) continue;
    out.push({ patterns: f[0].split(","), keyType: f[1], key: f[2], revoked });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(name);
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return globMatch(pattern, name);
}

/** True when the entry's host patterns match `name` (a negated match wins). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let hit = false;
  for (const p of entry.patterns) {
    if (p.startsWith("!")) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) hit = true;
  }
  return hit;
}

/** A known_hosts file, read once. */
export class KnownHosts {
  readonly path: string;
  #entries: KnownHostEntry[];

  constructor(path: string) {
    this.path = path;
    this.#entries = existsSync(path) ? parseKnownHosts(readFileSync(path, "utf8")) : [];
  }

  /** Key types recorded for a host (to prefer them when negotiating). */
  keyTypes(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    return [...new Set(this.#entries.filter((e) => !e.revoked && entryMatches(e, name)).map((e) => e.keyType))];
  }

  /** Checks a presented key blob (raw SSH wire format) for host and port. */
  check(host: string, port: number, keyBlob: Uint8Array): HostKeyVerdict {
    const name = knownHostsName(host, port);
    const b64 = Buffer.from(keyBlob).toString("base64");
    if (this.#entries.some((e) => e.revoked && e.key === b64)) return "revoked";
    const mine = this.#entries.filter((e) => !e.revoked && entryMatches(e, name));
    if (mine.length === 0) return "unknown";
    return mine.some((e) => e.key === b64) ? "match" : "mismatch";
  }

  /** Appends a key for host and port (used when unknown keys are explicitly accepted). */
  add(host: string, port: number, keyBlob: Uint8Array): void {
    const b64 = Buffer.from(keyBlob).toString("base64");
    const type = keyTypeOfBlob(keyBlob);
    let line = `${knownHostsName(host, port)} ${type} ${b64}\n`;
    try {
      if (existsSync(this.path) && !readFileSync(this.path, "utf8").endsWith("\n")) line = `\n${line}`;
      appendFileSync(this.path, line, { mode: 0o600 });
    } catch { /* read-only known_hosts: accepted for this session only */ }
    this.#entries.push({ patterns: [knownHostsName(host, port)], keyType: type, key: b64, revoked: false });
  }
}

/** Reads the key type string at the start of an SSH public key blob. */
export function keyTypeOfBlob(blob: Uint8Array): string {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const len = dv.getUint32(0);
  return new TextDecoder().decode(blob.subarray(4, 4 + len));
}

/** SHA256 fingerprint as OpenSSH prints it. */
export async function fingerprint(blob: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(blob)));
  return "SHA256:" + btoa(String.fromCharCode(...d)).replace(/=+$/, "");
}

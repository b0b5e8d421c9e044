/**
 * Installing the agent on a node: the Deno executable (`Deno.execPath()`; `deno compile` is unavailable here) and
 * the project source (lib/ and the built shims in ffi/build), each stored under its content hash in the node's
 * cache directory, uploaded only when missing.
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { HyperlabError } from "../core/errors.ts";
import { PROJECT_ROOT } from "../core/provenance.ts";
import type { SshConnection } from "./connection.ts";
import { RemoteError } from "./errors.ts";
import { execCommand } from "./exec.ts";
import { shQuote } from "./quote.ts";
import { sha256File, upload } from "./transfer.ts";

/** Where the agent lives on a node, and what had to be uploaded. */
export interface AgentInstall {
  deno: string;
  sourceDir: string;
  cacheDir: string;
  uploaded: { deno: boolean; source: boolean };
}

/** Directories (relative to the project root) shipped to nodes. */
const SHIPPED = ["lib", "ffi/build"];

function walk(dir: string, out: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory) walk(p, out);
    else if (e.isFile && (/\.(ts|js|json)$/.test(e.name) || /\.so$/.test(e.name))) out.push(p);
  }
}

let denoHash: Promise<string> | undefined;
/** sha256 of the running Deno executable (computed once per process). */
export function denoExecutableHash(): Promise<string> {
  denoHash ??= sha256File(Deno.execPath());
  return denoHash;
}

/** A snapshot of the shipped source: its content hash and a .tgz of exactly the bytes hashed. */
export interface SourceBundle {
  hash: string;
  tgz: string;
  files: number;
}

let bundle: Promise<SourceBundle> | undefined;

/**
 * Snapshots the source once per process (files may change while the controller runs; the agent gets the code
 * this controller loaded): hashes every shipped file and packs the same bytes.
 */
export function sourceBundle(): Promise<SourceBundle> {
  bundle ??= (async () => {
    const files: string[] = [];
    for (const d of SHIPPED) walk(join(PROJECT_ROOT, d), files);
    files.sort();
    const stage = await Deno.makeTempDir({ prefix: "hyperlab-agent-src-" });
    const h = createHash("sha256");
    for (const f of files) {
      const rel = relative(PROJECT_ROOT, f);
      const bytes = readFileSync(f);
      h.update(rel + "\0");
      h.update(bytes);
      h.update("\0");
      await Deno.mkdir(dirname(join(stage, rel)), { recursive: true });
      await Deno.writeFile(join(stage, rel), bytes);
    }
    const tgz = await Deno.makeTempFile({ prefix: "hyperlab-agent-src-", suffix: ".tgz" });
    const o = await new Deno.Command("tar", { args: ["-czf", tgz, "-C", stage, "."], stderr: "piped" }).output();
    await Deno.remove(stage, { recursive: true });
    if (!o.success) throw new HyperlabError("agent", `cannot pack the source: ${new TextDecoder().decode(o.stderr)}`);
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(tgz);
      } catch { /* gone */ }
    });
    return { hash: h.digest("hex"), tgz, files: files.length };
  })();
  bundle.catch(() => bundle = undefined);
  return bundle;
}

async function sh(conn: SshConnection, script: string, timeout = 60_000): Promise<string> {
  const r = await execCommand(conn, `/bin/sh -c ${shQuote(script)}`, { timeout, check: false });
  if (r.exitCode !== 0) {
    throw new RemoteError(
      conn.target.name,
      "agent",
      `agent install step failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-400)}`,
    );
  }
  return r.stdout;
}

/**
 * Makes sure the node has this Deno and this source under `cacheDir` (default `$HOME/.cache/hyperlab`), uploading
 * what is missing. Safe when several controllers or nodes sharing a home install at once (temp names + rename).
 */
export async function ensureAgentInstalled(conn: SshConnection, cacheDir?: string): Promise<AgentInstall> {
  const [dh, src] = await Promise.all([denoExecutableHash(), sourceBundle()]);
  const cache = cacheDir ?? (await sh(conn, 'printf %s "$HOME"')).trim() + "/.cache/hyperlab";
  const deno = `${cache}/deno-${dh.slice(0, 16)}`;
  const sourceDir = `${cache}/src-${src.hash.slice(0, 16)}`;
  const state = await sh(
    conn,
    `uname -sm; mkdir -p ${shQuote(cache)} && { test -x ${shQuote(deno)} && echo deno; test -f ${
      shQuote(sourceDir + "/.complete")
    } && echo src; true; }`,
  );
  // The uploaded executable is this one: the node must have the same OS and CPU architecture.
  const [os, arch] = state.split("\n")[0].trim().split(/\s+/);
  const want = { linux: "Linux", darwin: "Darwin" }[Deno.build.os as string] ?? Deno.build.os;
  if (os !== want || arch !== Deno.build.arch) {
    throw new RemoteError(conn.target.name, "agent", `node is ${os} ${arch}, this Deno is ${want} ${Deno.build.arch}`, {
      hint: "install a matching Deno on the node at the cache path, or run the agent operation in-process",
    });
  }
  const lines = state.split("\n").slice(1);
  const uploaded = { deno: !lines.includes("deno"), source: !lines.includes("src") };
  if (uploaded.deno) await upload(conn, Deno.execPath(), deno, { mode: 0o755 });
  if (uploaded.source) {
    const remoteTgz = `${sourceDir}.tgz-${crypto.randomUUID().slice(0, 8)}`;
    await upload(conn, src.tgz, remoteTgz);
    const d = shQuote(sourceDir), t = shQuote(remoteTgz);
    await sh(
      conn,
      `set -e; if [ ! -f ${d}/.complete ]; then T=${d}.tmp-$$; rm -rf "$T"; mkdir -p "$T"; tar -xzf ${t} -C "$T"; ` +
        `touch "$T/.complete"; mv -T "$T" ${d} 2>/dev/null || rm -rf "$T"; fi; rm -f ${t}`,
    );
  }
  return { deno, sourceDir, cacheDir: cache, uploaded };
}

/** Size in bytes of what a first install uploads (for logs). */
export function installSize(): number {
  let n = statSync(Deno.execPath()).size;
  for (const d of SHIPPED) {
    const files: string[] = [];
    walk(join(PROJECT_ROOT, d), files);
    for (const f of files) n += statSync(f).size;
  }
  return n;
}

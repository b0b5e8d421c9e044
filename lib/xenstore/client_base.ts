/**
 * What both xenstore clients share: argument checks (InputError naming the field) and routing every change through
 * `effect`, so a `--dry-run` plan lists each xenstore write, mkdir, rm and chmod with its exact arguments.
 * @module
 */
import { effect } from "../core/ambient.ts";
import { InputError } from "../core/errors.ts";
import { formatPerm } from "./perms.ts";
import type { WatchEvent, XenstoreClient, XsCallOptions, XsPerm } from "./types.ts";

const enc = new TextEncoder();

/** Checks a path argument: a non-empty string without NUL, at most 3072 characters. */
export function checkPath(path: unknown, field = "path"): string {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0") || path.length > 3072) {
    throw new InputError(field, "a xenstore path (non-empty, no NUL, at most 3072 characters)", path);
  }
  return path;
}

/** Checks a permission list argument. */
export function checkPerms(perms: unknown): XsPerm[] {
  if (!Array.isArray(perms) || perms.length === 0) throw new InputError("perms", "a non-empty permission list", perms);
  perms.forEach((p, i) => {
    if (
      typeof p !== "object" || p === null || !["n", "r", "w", "b"].includes(p.access) || !Number.isInteger(p.id) ||
      p.id < 0 || p.id > 65535
    ) throw new InputError(`perms[${i}]`, "{ id: 0..65535, access: n|r|w|b }", p);
  });
  return perms as XsPerm[];
}

/** Base class: subclasses implement the raw calls; the public changing calls are planned under dry-run. */
export abstract class XenstoreClientBase implements XenstoreClient {
  abstract readonly target: string;
  protected abstract rawRead(path: string, tx: number): Promise<Uint8Array | undefined>;
  protected abstract rawWrite(path: string, value: Uint8Array, tx: number): Promise<void>;
  protected abstract rawMkdir(path: string, tx: number): Promise<void>;
  protected abstract rawRm(path: string, tx: number): Promise<void>;
  protected abstract rawList(path: string, tx: number): Promise<string[] | undefined>;
  protected abstract rawGetPerms(path: string, tx: number): Promise<XsPerm[] | undefined>;
  protected abstract rawSetPerms(path: string, perms: XsPerm[], tx: number): Promise<void>;
  abstract transactionStart(): Promise<number>;
  abstract transactionEnd(tx: number, commit: boolean): Promise<void>;
  abstract watch(path: string, token: string): Promise<void>;
  abstract unwatch(path: string, token: string): Promise<void>;
  abstract nextEvent(timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent | undefined>;
  abstract close(): Promise<void>;

  async read(path: string, opts?: XsCallOptions): Promise<string | undefined> {
    const v = await this.rawRead(checkPath(path), opts?.tx ?? 0);
    return v === undefined ? undefined : new TextDecoder().decode(v);
  }

  readBytes(path: string, opts?: XsCallOptions): Promise<Uint8Array | undefined> {
    return this.rawRead(checkPath(path), opts?.tx ?? 0);
  }

  async write(path: string, value: string | Uint8Array, opts?: XsCallOptions): Promise<void> {
    checkPath(path);
    if (typeof value !== "string" && !(value instanceof Uint8Array)) {
      throw new InputError("value", "a string or Uint8Array", value);
    }
    const bytes = typeof value === "string" ? enc.encode(value) : value;
    if (bytes.length > 4096 - path.length - 1) {
      throw new InputError("value", "at most 4095 bytes with the path", bytes.length);
    }
    const shown = typeof value === "string" ? JSON.stringify(value) : `<${value.length} bytes>`;
    await effect(
      { kind: "xenstore", target: this.target, action: `write ${path} ${shown}${txNote(opts)}` },
      () => this.rawWrite(path, bytes, opts?.tx ?? 0),
      () => undefined,
    );
  }

  async mkdir(path: string, opts?: XsCallOptions): Promise<void> {
    checkPath(path);
    await effect(
      { kind: "xenstore", target: this.target, action: `mkdir ${path}${txNote(opts)}` },
      () => this.rawMkdir(path, opts?.tx ?? 0),
      () => undefined,
    );
  }

  async rm(path: string, opts?: XsCallOptions): Promise<void> {
    checkPath(path);
    await effect(
      { kind: "xenstore", target: this.target, action: `rm ${path}${txNote(opts)}` },
      () => this.rawRm(path, opts?.tx ?? 0),
      () => undefined,
    );
  }

  list(path: string, opts?: XsCallOptions): Promise<string[] | undefined> {
    return this.rawList(checkPath(path), opts?.tx ?? 0);
  }

  getPerms(path: string, opts?: XsCallOptions): Promise<XsPerm[] | undefined> {
    return this.rawGetPerms(checkPath(path), opts?.tx ?? 0);
  }

  async setPerms(path: string, perms: XsPerm[], opts?: XsCallOptions): Promise<void> {
    checkPath(path);
    checkPerms(perms);
    await effect(
      {
        kind: "xenstore",
        target: this.target,
        action: `chmod ${path} ${perms.map(formatPerm).join(" ")}${txNote(opts)}`,
      },
      () => this.rawSetPerms(path, perms, opts?.tx ?? 0),
      () => undefined,
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function txNote(opts?: XsCallOptions): string {
  return opts?.tx ? ` (transaction ${opts.tx})` : "";
}

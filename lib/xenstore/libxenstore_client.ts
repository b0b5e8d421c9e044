/**
 * The xenstore client over Xen's own libxenstore (through ffi/xenstore.c): what runs against Xen's xenstored in a
 * dom0 and, for tests, against the embedded xenstored. Every call is a nonblocking FFI call.
 * @module
 */
import { MissingError } from "../core/errors.ts";
import { check, ErrnoError } from "../ffi/errno.ts";
import { toCString } from "../ffi/loader.ts";
import { XenstoreClientBase } from "./client_base.ts";
import { xenstoreShim } from "./ffi.ts";
import { formatPerm, parsePerm } from "./perms.ts";
import type { WatchEvent, XsPerm } from "./types.ts";
import { splitStrings } from "./wire.ts";

/** Default socket libxenstore uses when neither a path nor XENSTORED_PATH is given. */
export const XEN_XENSTORED_SOCKET = "/run/xenstored/socket";

/** A libxenstore connection. */
export class LibXenstoreClient extends XenstoreClientBase {
  #h: number;
  readonly #sym = xenstoreShim();

  private constructor(readonly target: string, handle: number) {
    super();
    this.#h = handle;
  }

  /**
   * Opens a connection. `socketPath` selects a daemon socket (the embedded xenstored or Xen's); without it
   * libxenstore's default applies (XENSTORED_PATH, /dev/xen/xenbus, /run/xenstored/socket).
   */
  static async open(socketPath?: string): Promise<LibXenstoreClient> {
    const sym = xenstoreShim();
    const r = await sym.hl_xs_open(toCString(socketPath ?? ""));
    if (r < 0) {
      const target = socketPath ?? Deno.env.get("XENSTORED_PATH") ?? `/dev/xen/xenbus or ${XEN_XENSTORED_SOCKET}`;
      throw new MissingError(
        `cannot connect to xenstore at ${target}: ${new ErrnoError("xs_open", -r).errnoName}`,
        "start the embedded one (deno task xenstored --socket PATH) or run in a Xen dom0",
      );
    }
    return new LibXenstoreClient(socketPath ?? "libxenstore default", r);
  }

  #handle(op: string): number {
    if (this.#h < 0) throw new ErrnoError(op, 9, "client closed");
    return this.#h;
  }

  /** Calls a shim function that fills a buffer, growing the buffer when the result did not fit. */
  async #fill(
    op: string,
    path: string,
    call: (buf: Uint8Array<ArrayBuffer>) => Promise<bigint>,
  ): Promise<Uint8Array | undefined> {
    let size = 4096;
    for (;;) {
      const out = new Uint8Array(size);
      const r = Number(await call(out));
      if (r === -2) return undefined;
      check(`${op} ${path}`, r);
      if (r <= size) return out.subarray(0, r);
      size = r;
    }
  }

  protected rawRead(path: string, tx: number): Promise<Uint8Array | undefined> {
    const h = this.#handle("xs_read");
    return this.#fill("xs_read", path, (b) => this.#sym.hl_xs_read(h, tx, toCString(path), b, BigInt(b.length)));
  }

  protected async rawWrite(path: string, value: Uint8Array, tx: number): Promise<void> {
    const data = new Uint8Array(value);
    check(
      `xs_write ${path}`,
      await this.#sym.hl_xs_write(this.#handle("xs_write"), tx, toCString(path), data, data.length),
    );
  }

  protected async rawMkdir(path: string, tx: number): Promise<void> {
    check(`xs_mkdir ${path}`, await this.#sym.hl_xs_mkdir(this.#handle("xs_mkdir"), tx, toCString(path)));
  }

  protected async rawRm(path: string, tx: number): Promise<void> {
    check(`xs_rm ${path}`, await this.#sym.hl_xs_rm(this.#handle("xs_rm"), tx, toCString(path)));
  }

  protected async rawList(path: string, tx: number): Promise<string[] | undefined> {
    const h = this.#handle("xs_directory");
    const r = await this.#fill(
      "xs_directory",
      path,
      (b) => this.#sym.hl_xs_directory(h, tx, toCString(path), b, BigInt(b.length)),
    );
    return r === undefined ? undefined : splitStrings(r);
  }

  protected async rawGetPerms(path: string, tx: number): Promise<XsPerm[] | undefined> {
    const h = this.#handle("xs_get_permissions");
    const r = await this.#fill(
      "xs_get_permissions",
      path,
      (b) => this.#sym.hl_xs_get_perms(h, tx, toCString(path), b, BigInt(b.length)),
    );
    return r === undefined ? undefined : splitStrings(r).map((s) => parsePerm(s));
  }

  protected async rawSetPerms(path: string, perms: XsPerm[], tx: number): Promise<void> {
    const strings = new TextEncoder().encode(perms.map((p) => formatPerm(p) + "\0").join(""));
    const h = this.#handle("xs_set_permissions");
    check(`xs_set_permissions ${path}`, await this.#sym.hl_xs_set_perms(h, tx, toCString(path), strings, perms.length));
  }

  async transactionStart(): Promise<number> {
    return Number(
      check("xs_transaction_start", await this.#sym.hl_xs_transaction_start(this.#handle("xs_transaction_start"))),
    );
  }

  async transactionEnd(tx: number, commit: boolean): Promise<void> {
    check(
      "xs_transaction_end",
      await this.#sym.hl_xs_transaction_end(this.#handle("xs_transaction_end"), tx, commit ? 0 : 1),
    );
  }

  async watch(path: string, token: string): Promise<void> {
    check(`xs_watch ${path}`, await this.#sym.hl_xs_watch(this.#handle("xs_watch"), toCString(path), toCString(token)));
  }

  async unwatch(path: string, token: string): Promise<void> {
    check(
      `xs_unwatch ${path}`,
      await this.#sym.hl_xs_unwatch(this.#handle("xs_unwatch"), toCString(path), toCString(token)),
    );
  }

  /** Waits in slices of at most 200 ms so an abort is noticed promptly. */
  async nextEvent(timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent | undefined> {
    const deadline = performance.now() + timeoutMs;
    const buf = new Uint8Array(8192);
    for (;;) {
      if (signal?.aborted || this.#h < 0) return undefined;
      const slice = Math.max(0, Math.min(200, Math.ceil(deadline - performance.now())));
      const r = Number(await this.#sym.hl_xs_read_watch(this.#handle("xs_read_watch"), buf, BigInt(buf.length), slice));
      if (r >= 0) {
        const [path, token] = splitStrings(buf.subarray(0, r));
        return { path, token };
      }
      if (r !== -110) check("xs_read_watch", r);
      if (performance.now() >= deadline) return undefined;
    }
  }

  /** Synchronous read through libxenstore (blocks the event loop: for measurements against an out-of-process daemon). */
  readSync(path: string): Uint8Array | undefined {
    const out = new Uint8Array(4096);
    const r = Number(this.#sym.hl_xs_read_sync(this.#handle("xs_read"), 0, toCString(path), out, BigInt(out.length)));
    if (r === -2) return undefined;
    check(`xs_read ${path}`, r);
    return out.subarray(0, r);
  }

  async close(): Promise<void> {
    if (this.#h < 0) return;
    const h = this.#h;
    this.#h = -1;
    await this.#sym.hl_xs_close(h);
  }
}

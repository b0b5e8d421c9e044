/**
 * A QMP client: JSON messages over QEMU's unix socket, with capabilities negotiation, commands matched to answers by
 * id, and asynchronous events (kept in a short history and offered to waiters).
 * @module
 */
import { TimeoutError } from "../core/errors.ts";
import { QmpClosedError, QmpError, type QmpEvent } from "./qmp_types.ts";

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type EventWaiter = { match: (e: QmpEvent) => boolean; resolve: (e: QmpEvent) => void };

/** A connected, negotiated QMP session. Create with `QmpClient.connect`. */
export class QmpClient implements AsyncDisposable {
  readonly #conn: Deno.UnixConn;
  readonly #pending = new Map<string, Pending>();
  #waiters: EventWaiter[] = [];
  #nextId = 1;
  #closed: string | null = null;
  #greeting: (v: unknown) => void = () => {};
  /** Events received so far (the most recent 1000). */
  readonly events: QmpEvent[] = [];
  /** QEMU's greeting (`{"QMP": {"version", "capabilities"}}`). */
  greeting: unknown;
  /** Resolves when the connection ends. */
  readonly closed: Promise<void>;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.closed = this.#readLoop();
  }

  /**
   * Connects to the QMP socket at `path` (retrying while QEMU is still creating it, up to `timeoutMs`), reads the
   * greeting and negotiates capabilities.
   */
  static async connect(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let conn: Deno.UnixConn | undefined;
    let last: unknown;
    while (!conn) {
      options.signal?.throwIfAborted();
      try {
        conn = await Deno.connect({ transport: "unix", path });
      } catch (e) {
        last = e;
        if (Date.now() > deadline) throw new TimeoutError(`QMP connect ${path}`, timeoutMs, String(last));
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const client = new QmpClient(conn);
    const greeting = new Promise((resolve) => client.#greeting = resolve);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      client.greeting = await Promise.race([
        greeting,
        client.closed.then(() => {
          throw new QmpClosedError(`${path} closed before the greeting`);
        }),
        new Promise((_, rej) => timer = setTimeout(() => rej(new TimeoutError("QMP greeting", timeoutMs)), timeoutMs)),
      ]);
      await client.execute("qmp_capabilities", undefined, { timeoutMs });
    } catch (e) {
      client.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** True once the connection ended. */
  get isClosed(): boolean {
    return this.#closed !== null;
  }

  /** Runs a QMP command and returns its `return` value; throws QmpError on `error`, QmpClosedError on hang-up. */
  async execute<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: { timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.#closed !== null) throw new QmpClosedError(`${this.#closed} (command ${command})`);
    const id = `hl-${this.#nextId++}`;
    const msg = JSON.stringify(
      args === undefined ? { execute: command, id } : { execute: command, arguments: args, id },
    );
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(`QMP ${command}`, timeoutMs));
      }, timeoutMs);
    });
    try {
      await this.#write(msg + "\n");
      return await answer;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  /** Waits for the next event named `name` (optionally matching `where`), or one already received when `past`. */
  waitEvent(
    name: string,
    options: { timeoutMs?: number; where?: (e: QmpEvent) => boolean; past?: boolean } = {},
  ): Promise<QmpEvent> {
    const match = (e: QmpEvent) => e.event === name && (options.where?.(e) ?? true);
    if (options.past) {
      const hit = this.events.find(match);
      if (hit) return Promise.resolve(hit);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<QmpEvent>((resolve, reject) => {
      const waiter: EventWaiter = { match, resolve: (e) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new TimeoutError(`QMP event ${name}`, timeoutMs));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed === null) this.#closed = "closed by client";
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }

  async #write(text: string): Promise<void> {
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  async #readLoop(): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of this.#conn.readable) {
        buf += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) this.#dispatch(line);
        }
      }
    } catch { /* connection reset: treated as closed */ }
    if (this.#closed === null) this.#closed = "QEMU closed the QMP socket";
    for (const p of this.#pending.values()) p.reject(new QmpClosedError(`${this.#closed} (command ${p.command})`));
    this.#pending.clear();
  }

  #dispatch(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not JSON: ignore (QEMU never sends this)
    }
    if ("QMP" in msg) return this.#greeting(msg);
    if ("event" in msg) {
      const ev = msg as unknown as QmpEvent;
      this.events.push(ev);
      if (this.events.length > 1000) this.events.shift();
      const hits = this.#waiters.filter((w) => w.match(ev));
      this.#waiters = this.#waiters.filter((w) => !hits.includes(w));
      for (const w of hits) w.resolve(ev);
      return;
    }
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const p = id ? this.#pending.get(id) : undefined;
    if (!p) return;
    if ("error" in msg) {
      const err = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(p.command, err.class ?? "UnknownError", err.desc ?? ""));
    } else p.resolve(msg.return);
  }
}

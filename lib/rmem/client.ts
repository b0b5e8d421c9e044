/**
 * The rmem client: connects to several memory servers, receives one pool slice from each, and manages those slices
 * itself — alloc and free are one-sided (no server round trip) — while read and write are requests the servers
 * serve. Regions are spread across servers round-robin. When a server dies, reads and writes of its regions fail
 * with RemoteMemoryLostError (never zeros) and `lostPages()` says exactly which regions and pages were lost.
 * @module
 */
import { InputError } from "../core/errors.ts";
import { parseOrThrow } from "../core/zod_errors.ts";
import { PoolExhaustedError, RemoteMemoryLostError } from "./errors.ts";
import { RangeAllocator } from "./range_allocator.ts";
import { type ClientOptions, ClientOptionsSchema } from "./schema.ts";
import { tcpTransport } from "./tcp_transport.ts";
import type { ChannelStats, RmemChannel, RmemTransport } from "./transport.ts";

/** A region of remote memory, as the Scalevisor deck describes it, plus the server holding it. */
export interface RemoteRegion {
  /** Remote address of the first byte. */
  readonly remote_addr: bigint;
  /** Key the server checks on every access. */
  readonly remote_rkey: number;
  /** Length in bytes. */
  readonly remote_len: number;
  /** `host:port` of the server holding it. */
  readonly server: string;
}

/** What one dead server took with it. */
export interface LostMemory {
  /** Endpoint of the dead server. */
  server: string;
  /** Why the connection ended. */
  reason: string;
  /** Regions that were allocated on it when it died. */
  regions: RemoteRegion[];
  /** Pages (of the server's page size) those regions covered. */
  pages: number;
  /** Remote addresses of those pages. */
  pageAddrs: bigint[];
}

/** State of one server as the client sees it. */
export interface ServerUsage {
  server: string;
  alive: boolean;
  grantBytes: number;
  freeBytes: number;
  largestFreeBytes: number;
  regions: number;
  channel: ChannelStats;
}

interface ServerState {
  endpoint: string;
  channel: RmemChannel;
  pageSize: number;
  pages: RangeAllocator;
  regions: Map<bigint, RemoteRegion>;
}

const MAX_REGION = 0xffffffff;

/** Remote address of byte `offset` of `region` (no BigInt arithmetic for the common offset 0). */
function addrAt(region: RemoteRegion, offset: number): bigint {
  return offset === 0 ? region.remote_addr : region.remote_addr + BigInt(offset);
}

/** A client of one or more memory servers. `await using` closes it. */
export class RmemClient implements AsyncDisposable {
  #servers: ServerState[];
  #next = 0;
  #lost: LostMemory[] = [];
  #listeners: ((lost: LostMemory) => void)[] = [];
  #closing = false;
  // regions this client handed out and has not freed, to their server (fast path of every access)
  #live = new WeakMap<RemoteRegion, ServerState>();

  private constructor(servers: ServerState[]) {
    this.#servers = servers;
    for (const s of servers) s.channel.closed.then((e) => this.#onServerGone(s, e.message));
  }

  /**
   * Connects to every server in `options.servers` and obtains `bytesPerServer` from each. Fails (naming the server)
   * when any server cannot be reached or cannot grant the slice; connections already made are closed.
   */
  static async connect(options: ClientOptions, transport: RmemTransport = tcpTransport): Promise<RmemClient> {
    const o = parseOrThrow(ClientOptionsSchema, options, "rmem client");
    const dup = o.servers.find((s, i) => o.servers.indexOf(s) !== i);
    if (dup) throw new InputError("servers", "distinct endpoints", dup, { where: "rmem client" });
    const opened = await Promise.allSettled(
      o.servers.map((endpoint) =>
        transport.connect(endpoint, {
          requestBytes: o.bytesPerServer,
          merge: o.merge,
          maxMergeBytes: o.maxMergeBytes,
          timeoutMs: o.connectTimeoutMs,
        })
      ),
    );
    const failed = opened.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) {
      await Promise.all(opened.map((r) => r.status === "fulfilled" ? r.value.close() : undefined));
      throw failed.reason;
    }
    const channels = opened.map((r) => (r as PromiseFulfilledResult<RmemChannel>).value);
    return new RmemClient(channels.map((channel) => ({
      endpoint: channel.endpoint,
      channel,
      pageSize: channel.grant.pageSize,
      pages: new RangeAllocator(Number(channel.grant.len / BigInt(channel.grant.pageSize))),
      regions: new Map(),
    })));
  }

  /**
   * Allocates `bytes` of remote memory on the next live server (round-robin) with a free run large enough.
   * One-sided: only the client's view of its slices changes. Throws PoolExhaustedError when no server has room.
   */
  alloc(bytes: number): RemoteRegion {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > MAX_REGION) {
      throw new InputError("bytes", `an integer between 1 and ${MAX_REGION}`, bytes, { where: "rmem alloc" });
    }
    const n = this.#servers.length;
    for (let k = 0; k < n; k++) {
      const s = this.#servers[(this.#next + k) % n];
      if (!s.channel.alive) continue;
      const at = s.pages.alloc(Math.ceil(bytes / s.pageSize));
      if (at < 0) continue;
      this.#next = (this.#next + k + 1) % n;
      const region: RemoteRegion = Object.freeze({
        remote_addr: s.channel.grant.base + BigInt(at * s.pageSize),
        remote_rkey: s.channel.grant.rkey,
        remote_len: bytes,
        server: s.endpoint,
      });
      s.regions.set(region.remote_addr, region);
      this.#live.set(region, s);
      return region;
    }
    const detail = this.#servers.map((s) => {
      const st = s.pages.stats();
      return `${s.endpoint}: ${s.channel.alive ? "" : "dead, "}${st.free * s.pageSize} bytes free, ` +
        `largest run ${st.largestFree * s.pageSize}`;
    }).join("; ");
    throw new PoolExhaustedError(bytes, detail);
  }

  /** Frees a region (one-sided). Throws InputError for a region that is not allocated (double free). */
  free(region: RemoteRegion): void {
    const s = this.#owner(region, "rmem free");
    const issued = s.regions.get(region.remote_addr)!;
    s.regions.delete(region.remote_addr);
    this.#live.delete(issued);
    s.pages.free(Number((region.remote_addr - s.channel.grant.base) / BigInt(s.pageSize)), this.#pagesOf(s, region));
  }

  /** Reads `len` bytes at `offset` of `region`. Fails with RemoteMemoryLostError when its server is gone. */
  read(region: RemoteRegion, offset = 0, len = region.remote_len - offset): Promise<Uint8Array> {
    try {
      const s = this.#access(region, offset, len, "rmem read");
      return s.channel.read(region.remote_rkey, addrAt(region, offset), len);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Reads `len` bytes at `offset` of `region` into `sink`, which gets a view valid only during the call (no copy);
   * resolves once `sink` returned. Fails with RemoteMemoryLostError when its server is gone.
   */
  readInto(region: RemoteRegion, offset: number, len: number, sink: (view: Uint8Array) => void): Promise<void> {
    try {
      const s = this.#access(region, offset, len, "rmem read");
      return s.channel.readInto(region.remote_rkey, addrAt(region, offset), len, sink);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Callback form of `readInto` for hot paths (no promise per request): exactly one of `sink` and `fail` is
   * called, never before this returns (bad arguments and dead servers included).
   */
  readWith(
    region: RemoteRegion,
    offset: number,
    len: number,
    sink: (view: Uint8Array) => void,
    fail: (e: Error) => void,
  ): void {
    let s: ServerState;
    try {
      s = this.#access(region, offset, len, "rmem read");
    } catch (e) {
      queueMicrotask(() => fail(e as Error));
      return;
    }
    s.channel.readWith(region.remote_rkey, addrAt(region, offset), len, sink, fail);
  }

  /** Callback form of `write`: exactly one of `done` and `fail` is called, never before this returns. */
  writeWith(region: RemoteRegion, offset: number, data: Uint8Array, done: () => void, fail: (e: Error) => void): void {
    let s: ServerState;
    try {
      s = this.#access(region, offset, data.length, "rmem write");
    } catch (e) {
      queueMicrotask(() => fail(e as Error));
      return;
    }
    s.channel.writeWith(region.remote_rkey, addrAt(region, offset), data, done, fail);
  }

  /** Writes `data` at `offset` of `region` (`data` is copied before this returns). Fails with RemoteMemoryLostError when its server is gone. */
  write(region: RemoteRegion, offset: number, data: Uint8Array): Promise<void> {
    try {
      const s = this.#access(region, offset, data.length, "rmem write");
      return s.channel.write(region.remote_rkey, addrAt(region, offset), data);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** What dead servers took with them, one entry per dead server. */
  lostPages(): LostMemory[] {
    return this.#lost.map((l) => ({ ...l, regions: [...l.regions], pageAddrs: [...l.pageAddrs] }));
  }

  /** Calls `listener` whenever a server dies. */
  onLoss(listener: (lost: LostMemory) => void): void {
    this.#listeners.push(listener);
  }

  /** Whether `region`'s server is still alive. */
  isLost(region: RemoteRegion): boolean {
    const s = this.#live.get(region) ?? this.#servers.find((x) => x.endpoint === region.server);
    return !s?.channel.alive;
  }

  /** Per-server usage. */
  usage(): ServerUsage[] {
    return this.#servers.map((s) => {
      const st = s.pages.stats();
      return {
        server: s.endpoint,
        alive: s.channel.alive,
        grantBytes: st.total * s.pageSize,
        freeBytes: st.free * s.pageSize,
        largestFreeBytes: st.largestFree * s.pageSize,
        regions: s.regions.size,
        channel: s.channel.stats(),
      };
    });
  }

  /** Closes every connection; the servers release the slices. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#servers.map((s) => s.channel.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #pagesOf(s: ServerState, region: RemoteRegion): number {
    return Math.ceil(region.remote_len / s.pageSize);
  }

  #owner(region: RemoteRegion, where: string): ServerState {
    const fast = this.#live.get(region);
    if (fast) return fast;
    const s = this.#servers.find((x) => x.endpoint === region?.server);
    const live = s?.regions.get(region?.remote_addr);
    if (!s || live === undefined || live.remote_rkey !== region.remote_rkey || live.remote_len !== region.remote_len) {
      throw new InputError("region", "a region allocated by this client and not yet freed", region, { where });
    }
    return s;
  }

  #access(region: RemoteRegion, offset: number, len: number, where: string): ServerState {
    const s = this.#owner(region, where);
    if (!Number.isInteger(offset) || offset < 0 || offset > region.remote_len) {
      throw new InputError("offset", `an integer between 0 and ${region.remote_len}`, offset, { where });
    }
    if (!Number.isInteger(len) || len < 0 || offset + len > region.remote_len) {
      throw new InputError("len", `an integer with offset + len <= ${region.remote_len}`, len, { where });
    }
    if (!s.channel.alive) {
      throw new RemoteMemoryLostError(
        s.endpoint,
        `region 0x${region.remote_addr.toString(16)} (+${region.remote_len}) was on it`,
      );
    }
    return s;
  }

  #onServerGone(s: ServerState, reason: string): void {
    if (this.#closing) return;
    const regions = [...s.regions.values()];
    const pageAddrs: bigint[] = [];
    for (const r of regions) {
      for (let p = 0; p < this.#pagesOf(s, r); p++) pageAddrs.push(r.remote_addr + BigInt(p * s.pageSize));
    }
    const lost: LostMemory = { server: s.endpoint, reason, regions, pages: pageAddrs.length, pageAddrs };
    this.#lost.push(lost);
    for (const l of this.#listeners) l(lost);
  }
}

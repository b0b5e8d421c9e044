/**
 * The UDP time collector Nephele's repositories lack: listens on port 32764, acks every report by sending the same
 * bytes back to the sender (guests resend until acked), records each distinct report once (resends are counted as
 * duplicates), and keeps malformed datagrams apart (not acked, so a broken guest keeps retrying visibly).
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { HyperlabError, TimeoutError } from "../core/errors.ts";
import { parseTimeReport, TIME_REPORT_PORT, type TimeReport } from "./time_report.ts";

/** One recorded report. */
export interface ReceivedReport extends TimeReport {
  /** Sender `ip:port`. */
  from: string;
  /** The datagram text. */
  raw: string;
  /** Collector's clock when first received, ms since the epoch. */
  receivedAtMs: number;
}

/** Where the collector listens. */
export interface CollectorOptions {
  hostname?: string;
  /** Default 32764; 0 picks a free port (tests). */
  port?: number;
  /** Called once per distinct report. */
  onReport?: (r: ReceivedReport) => void;
}

/** A running collector. */
export class TimeCollector implements AsyncDisposable {
  readonly reports: ReceivedReport[] = [];
  /** Malformed datagrams (not acked). */
  readonly invalid: { from: string; text: string }[] = [];
  /** Resent reports (acked again, recorded once). */
  duplicates = 0;
  readonly #socket: Socket;
  readonly #seen = new Set<string>();
  readonly #onReport?: (r: ReceivedReport) => void;
  #closed = false;

  private constructor(socket: Socket, onReport?: (r: ReceivedReport) => void) {
    this.#socket = socket;
    this.#onReport = onReport;
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => this.#receive(msg, rinfo));
  }

  /** Binds the socket and starts acking. Fails naming the address when the port is taken. */
  static start(opts: CollectorOptions = {}): Promise<TimeCollector> {
    const hostname = opts.hostname ?? "0.0.0.0";
    const port = opts.port ?? TIME_REPORT_PORT;
    const socket = createSocket({ type: hostname.includes(":") ? "udp6" : "udp4", reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once("error", (e: Error) => {
        socket.close();
        reject(new HyperlabError("collector", `UDP time collector cannot listen on ${hostname}:${port}: ${e.message}`));
      });
      socket.bind(port, hostname, () => {
        socket.removeAllListeners("error");
        socket.on("error", () => {});
        resolve(new TimeCollector(socket, opts.onReport));
      });
    });
  }

  /** The bound `{ address, port }`. */
  get address(): { address: string; port: number } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  #receive(msg: Uint8Array, rinfo: { address: string; port: number }): void {
    const from = `${rinfo.address}:${rinfo.port}`;
    const text = new TextDecoder().decode(msg);
    let report: TimeReport;
    try {
      report = parseTimeReport(text);
    } catch {
      this.invalid.push({ from, text });
      return;
    }
    this.#socket.send(msg, rinfo.port, rinfo.address);
    const key = `${rinfo.address}|${text}`;
    if (this.#seen.has(key)) {
      this.duplicates++;
      return;
    }
    this.#seen.add(key);
    const r: ReceivedReport = { ...report, from, raw: text.replace(/\0+$/, "").trim(), receivedAtMs: Date.now() };
    this.reports.push(r);
    this.#onReport?.(r);
  }

  /** Resolves once `n` distinct reports arrived; TimeoutError naming how many did. */
  async waitForReports(n: number, timeoutMs: number, signal?: AbortSignal): Promise<ReceivedReport[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.reports.length < n) {
      if (signal?.aborted) throw signal.reason;
      if (performance.now() >= deadline) {
        throw new TimeoutError(
          `UDP time collector: waiting for ${n} reports`,
          timeoutMs,
          `received ${this.reports.length} (${this.duplicates} resends, ${this.invalid.length} malformed)`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.reports.slice(0, n);
  }

  /** Closes the socket. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((r) => this.#socket.close(() => r()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

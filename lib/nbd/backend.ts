/** What an NBD export serves from, and the error a backend throws to answer a request with an NBD error value. */
import { HyperlabError } from "../core/errors.ts";

/** Size of the blocks `readBlock` and `writeBlock` move. */
export const BLOCK_BYTES = 4096;

/** Receives read data as transient views: `view` belongs at `at` bytes into the requested range. */
export type ReadSink = (view: Uint8Array, at: number) => void;

/** A block device an NBD export serves. Offsets and lengths are already bounds-checked by the server. */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional zero-copy read: hands `[offset, offset + length)` to `sink` in pieces, each a view valid only during
   * the call, placed at `at` bytes into the range; every byte is delivered exactly once. Resolves when all were.
   */
  readInto?(offset: number, length: number, sink: ReadSink): Promise<void>;
  /**
   * Optional callback form of a read of the whole aligned block number `block` ({@link BLOCK_BYTES}), for the server's hot path
   * (no promise per request): exactly one of `sink` (the bytes, a view valid only during the call) and `fail` is
   * called, possibly before this returns.
   */
  readBlock?(block: number, sink: (view: Uint8Array) => void, fail: (e: unknown) => void): void;
  /**
   * Optional callback form of a write of the whole aligned block number `block` ({@link BLOCK_BYTES}): exactly one of `done` and
   * `fail` is called, possibly before this returns; `data` is only valid during the call. The caller waits for
   * these writes itself before `flush`. `done` may come before the write is durable unless `fua` is set; `flush`
   * then waits for it and reports its failure.
   */
  writeBlock?(block: number, data: Uint8Array, done: () => void, fail: (e: unknown) => void, fua?: boolean): void;
  /** Writes `data` at `offset`; `data` is only valid during the call (copy it to keep it). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Discards `[offset, offset + length)`; later reads of fully discarded blocks return zeros. */
  trim(offset: number, length: number): Promise<void>;
  /** Makes `[offset, offset + length)` read as zeros. */
  writeZeroes(offset: number, length: number): Promise<void>;
  /** Resolves when every write acknowledged so far is durable on the backend. */
  flush(): Promise<void>;
}

/** A failure the server answers with NBD error value `errno` (EIO, ENOSPC…). */
export class BlockIoError extends HyperlabError {
  /** NBD error value sent to the client. */
  readonly errno: number;
  constructor(errno: number, message: string, options?: { cause?: unknown }) {
    super("nbd-io", message, options);
    this.errno = errno;
  }
}

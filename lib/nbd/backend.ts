/** What an NBD export serves from, and the error a backend throws to answer a request with an NBD error value. */
import { HyperlabError } from "../core/errors.ts";

/** A block device an NBD export serves. Offsets and lengths are already bounds-checked by the server. */
export interface BlockBackend {
  /** Size in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Writes `data` at `offset`. */
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

/** The byte-stream shape both TCP connections and RDMA queue-pair streams have. */

/** A reliable, ordered byte stream (Deno.TcpConn has this shape). */
export interface ByteStream {
  /** Reads into `p`; resolves with the count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some prefix of `p`; resolves with how much. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the stream; pending reads end. */
  close(): void;
}

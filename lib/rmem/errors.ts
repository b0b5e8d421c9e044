/** Typed failures of remote memory: lost servers, exhausted pools and error replies. */
import { HyperlabError } from "../core/errors.ts";
import { statusName } from "./wire.ts";

/** A remote-memory server that holds the data is gone: the data is lost, never returned as zeros. */
export class RemoteMemoryLostError extends HyperlabError {
  /** Endpoint (`host:port`) of the lost server. */
  readonly server: string;
  constructor(server: string, detail: string) {
    super("rmem-lost", `remote memory on ${server} is lost: ${detail}`, {
      hint: "the memory server died or closed the connection; see client.lostPages() for what was lost",
    });
    this.server = server;
  }
}

/** No server has a free contiguous run large enough, or a server's pool cannot grant the requested slice. */
export class PoolExhaustedError extends HyperlabError {
  /** Bytes requested. */
  readonly requested: number;
  constructor(requested: number, detail: string) {
    super("rmem-exhausted", `remote memory pool exhausted: cannot allocate ${requested} bytes (${detail})`, {
      hint: "add memory servers, grant more bytes per server, or free regions",
    });
    this.requested = requested;
  }
}

/** A server answered a request with an error status. */
export class RmemRemoteError extends HyperlabError {
  /** Wire status code. */
  readonly status: number;
  /** Status name, e.g. `OUT_OF_BOUNDS`. */
  readonly statusName: string;
  constructor(server: string, status: number, message: string) {
    super("rmem-remote", `rmem server ${server}: ${statusName(status)}: ${message}`);
    this.status = status;
    this.statusName = statusName(status);
  }
}

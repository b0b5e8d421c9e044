/** The one failure type inside the daemon: it becomes an XS_ERROR reply carrying the errno name. */
import type { XsErrorName } from "../wire.ts";

/** A request failed with an errno that goes back to the client as `XS_ERROR "<name>\0"`. */
export class XsError extends Error {
  /** errno name sent to the client, e.g. `ENOENT`. */
  readonly errno: XsErrorName;
  constructor(errno: XsErrorName, detail?: string) {
    super(detail ? `${errno}: ${detail}` : errno);
    this.errno = errno;
  }
}

/** Linux errno numbers (x86_64) to names and messages, and the typed error every shim failure becomes. */
import { HyperlabError } from "../core/errors.ts";

const TABLE: Record<number, [string, string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  7: ["E2BIG", "Argument list too long"],
  8: ["ENOEXEC", "Exec format error"],
  9: ["EBADF", "Bad file descriptor"],
  10: ["ECHILD", "No child processes"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  23: ["ENFILE", "Too many open files in system"],
  24: ["EMFILE", "Too many open files"],
  25: ["ENOTTY", "Inappropriate ioctl for device"],
  27: ["EFBIG", "File too large"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  32: ["EPIPE", "Broken pipe"],
  34: ["ERANGE", "Numerical result out of range"],
  35: ["EDEADLK", "Resource deadlock avoided"],
  36: ["ENAMETOOLONG", "File name too long"],
  38: ["ENOSYS", "Function not implemented"],
  39: ["ENOTEMPTY", "Directory not empty"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  61: ["ENODATA", "No data available"],
  62: ["ETIME", "Timer expired"],
  71: ["EPROTO", "Protocol error"],
  74: ["EBADMSG", "Bad message"],
  75: ["EOVERFLOW", "Value too large for defined data type"],
  84: ["EILSEQ", "Invalid or incomplete multibyte or wide character"],
  90: ["EMSGSIZE", "Message too long"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  98: ["EADDRINUSE", "Address already in use"],
  99: ["EADDRNOTAVAIL", "Cannot assign requested address"],
  100: ["ENETDOWN", "Network is down"],
  101: ["ENETUNREACH", "Network is unreachable"],
  103: ["ECONNABORTED", "Software caused connection abort"],
  104: ["ECONNRESET", "Connection reset by peer"],
  105: ["ENOBUFS", "No buffer space available"],
  106: ["EISCONN", "Transport endpoint is already connected"],
  107: ["ENOTCONN", "Transport endpoint is not connected"],
  110: ["ETIMEDOUT", "Connection timed out"],
  111: ["ECONNREFUSED", "Connection refused"],
  113: ["EHOSTUNREACH", "No route to host"],
  114: ["EALREADY", "Operation already in progress"],
  115: ["EINPROGRESS", "Operation now in progress"],
  121: ["EREMOTEIO", "Remote I/O error"],
  122: ["EDQUOT", "Disk quota exceeded"],
  125: ["ECANCELED", "Operation canceled"],
};

const BY_NAME: Record<string, number> = Object.fromEntries(Object.entries(TABLE).map(([n, [name]]) => [name, +n]));

/** Name of an errno number, e.g. 9 → `EBADF` (unknown numbers → `E<n>`). */
export function errnoName(errno: number): string {
  return TABLE[errno]?.[0] ?? `E${errno}`;
}

/** strerror-like message of an errno number. */
export function errnoMessage(errno: number): string {
  return TABLE[errno]?.[1] ?? `Unknown error ${errno}`;
}

/** Number of an errno name, e.g. `EAGAIN` → 11. */
export function errnoNumber(name: string): number | undefined {
  return BY_NAME[name];
}

/** A failed system call or library call in a shim: carries the operation, errno number, name and message. */
export class ErrnoError extends HyperlabError {
  /** Operation that failed, e.g. `KVM_CREATE_VM`. */
  readonly op: string;
  /** errno number. */
  readonly errno: number;
  /** errno name, e.g. `EBADF`. */
  readonly errnoName: string;
  constructor(op: string, errno: number, detail?: string) {
    super("errno", `${op}: ${errnoName(errno)} (${errnoMessage(errno)})${detail ? ` — ${detail}` : ""}`);
    this.op = op;
    this.errno = errno;
    this.errnoName = errnoName(errno);
  }
}

/** Returns `ret` when it is >= 0, else throws ErrnoError for `-ret`. */
export function check(op: string, ret: number): number;
export function check(op: string, ret: bigint): bigint;
export function check(op: string, ret: number | bigint): number | bigint {
  if (ret < 0) throw new ErrnoError(op, -Number(ret));
  return ret;
}

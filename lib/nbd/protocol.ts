/**
 * Constants of the NBD protocol (fixed newstyle negotiation, simple replies), as in the upstream protocol
 * document `doc/proto.md` of the NBD project. All integers on the wire are big-endian.
 * @module
 */

/** `NBDMAGIC`, first 8 bytes the server sends. */
export const NBDMAGIC = 0x4e42444d41474943n;
/** `IHAVEOPT`: second 8 bytes of the greeting, and the prefix of every option request. */
export const IHAVEOPT = 0x49484156454f5054n;
/** Prefix of every option reply. */
export const REPLY_MAGIC = 0x3e889045565a9n;
/** Prefix of every transmission request. */
export const REQUEST_MAGIC = 0x25609513;
/** Prefix of every simple reply. */
export const SIMPLE_REPLY_MAGIC = 0x67446698;

/** Handshake flags (server). */
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
/** Handshake flags (server): no 124 zero bytes after NBD_OPT_EXPORT_NAME. */
export const FLAG_NO_ZEROES = 1 << 1;
/** Client flags. */
export const FLAG_C_FIXED_NEWSTYLE = 1 << 0;
/** Client flags. */
export const FLAG_C_NO_ZEROES = 1 << 1;

/** Options. */
export const Opt = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
} as const;

/** Option reply types. */
export const Rep = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  ERR_UNSUP: 0x80000001,
  ERR_POLICY: 0x80000002,
  ERR_INVALID: 0x80000003,
  ERR_UNKNOWN: 0x80000006,
  ERR_TOO_BIG: 0x80000009,
} as const;

/** Info types of NBD_REP_INFO. */
export const Info = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

/** Transmission flags. */
export const TFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
} as const;

/** Command types. */
export const Cmd = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6 } as const;

/** Command flags. */
export const CmdFlag = { FUA: 1 << 0, NO_HOLE: 1 << 1 } as const;

/** Error values of replies (Linux errno numbers, as the protocol fixes them). */
export const NbdErr = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;

/** Size of a transmission request header. */
export const REQUEST_HEADER = 28;
/** Size of a simple reply header. */
export const SIMPLE_REPLY_HEADER = 16;
/** Largest READ or WRITE payload served (the common NBD maximum block size). */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
/** Largest option payload accepted during negotiation. */
export const MAX_OPTION = 64 * 1024;

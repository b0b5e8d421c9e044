/** The micro-VMM's port-I/O interface (mirrors ffi/guests/hl_guest.h). */
export const PORT = {
  /** COM1 data: OUT a byte to the console. */
  SERIAL: 0x3f8,
  /** COM1 line status: IN reads "transmitter empty". */
  SERIAL_LSR: 0x3fd,
  /** OUT u32: a report to the VMM. */
  REPORT: 0x500,
  /** OUT u32: argument of the next request. */
  ARG: 0x504,
  /** IN u32: parameter number ARG (0 when unset). */
  PARAM: 0x508,
  /** IN u32: clone me; 0 in the parent, 1 in a child, 0xffffffff when refused. */
  FORK: 0x50c,
  /** IN u32: clone index (0 booted, 1..N children). */
  INDEX: 0x510,
  /** OUT u32: counted exit for the exit-rate benchmark. */
  TICK: 0x514,
  /** IN u32: guest memory in KiB. */
  MEMSIZE: 0x518,
} as const;

/** The value FORK returns when cloning is refused (like Nephele's -1 without max_clones). */
export const FORK_REFUSED = 0xffffffff;
/** COM1 LSR bits: transmitter holding register empty | transmitter empty. */
export const LSR_IDLE = 0x60;

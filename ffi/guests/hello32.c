/* Protected-mode guest (32-bit, flat segments, no paging): prints a line, reports 32 and halts. */
#include "hl_guest.h"

void guest_main(void) {
  hl_print("hello from protected mode\n");
  hl_report(32);
}

/* Long-mode guest: prints a line, reports 64 and halts. */
#include "hl_guest.h"

void guest_main(void) {
  hl_print("hello from long mode\n");
  hl_report(64);
}

/* Exit-rate guest: writes param 0 times to the tick port (one exit each), reports the count and halts. */
#include "hl_guest.h"

void guest_main(void) {
  uint32_t n = hl_param(0);
  for (uint32_t i = 0; i < n; i++) outl(HL_PORT_TICK, i);
  hl_report(n);
}

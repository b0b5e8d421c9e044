/*
 * Repeated-fork guest: for i in 0..param 0, writes i+1 into heap page 2i (every other page), then forks. A child
 * reports i and the sum of the words it sees in pages 0, 2, …, 2i, then halts; the parent goes on. Finally the
 * parent reports the count. Exercises layered copy-on-write snapshots (each fork adds a separate changed run).
 */
#include "hl_guest.h"

void guest_main(void) {
  volatile uint32_t *heap = (volatile uint32_t *)HL_HEAP_BASE;
  uint32_t n = hl_param(0);
  for (uint32_t i = 0; i < n; i++) {
    heap[i * 2048] = i + 1;
    if (hl_fork() == 1) {
      uint32_t sum = 0;
      for (uint32_t j = 0; j <= i; j++) sum += heap[j * 2048];
      hl_report(i);
      hl_report(sum);
      return;
    }
  }
  hl_report(n);
}

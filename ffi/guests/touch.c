/*
 * Touches memory: writes one word in each 4 KiB page of param 0 KiB of heap (value param 1 + page number),
 * then reports the page count and halts.
 */
#include "hl_guest.h"

void guest_main(void) {
  uint32_t kib = hl_param(0), seed = hl_param(1);
  uint32_t pages = kib / 4;
  volatile uint32_t *heap = (volatile uint32_t *)HL_HEAP_BASE;
  for (uint32_t p = 0; p < pages; p++) heap[p * 1024] = seed + p;
  hl_report(pages);
}

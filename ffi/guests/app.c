/*
 * Instantiation/density guest. Boot: initialises param 0 KiB of heap (one word per page, like an OS setting up its
 * memory). Then asks to be cloned (a booted instance is told 0 and goes on), reports 1 ("ready", the first report),
 * touches param 1 KiB of heap with values of its own, reports 2 and halts.
 */
#include "hl_guest.h"

void guest_main(void) {
  volatile uint32_t *heap = (volatile uint32_t *)HL_HEAP_BASE;
  uint32_t init_pages = hl_param(0) / 4, touch_pages = hl_param(1) / 4;
  for (uint32_t p = 0; p < init_pages; p++) heap[p * 1024] = p;
  uint32_t r = hl_fork();
  uint32_t idx = hl_index();
  hl_report(1);
  for (uint32_t p = 0; p < touch_pages; p++) heap[p * 1024] = (idx << 20) + p + r;
  hl_report(2);
}

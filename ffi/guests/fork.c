/*
 * Fork guest: fills 16 heap pages with a pattern, asks to be cloned, then parent and children diverge.
 * Reports, in order: fork's return, clone index, checksum of the 16 pages as seen after fork, the word it then
 * writes at the heap start (parent 0xdead0000, child i 0xc0de0000+i, also written into page i).
 */
#include "hl_guest.h"

#define PAGES 16

static uint32_t checksum(volatile uint32_t *w, uint32_t words) {
  uint32_t s = 0x811c9dc5u;
  for (uint32_t i = 0; i < words; i++) s = (s ^ w[i]) * 0x01000193u;
  return s;
}

void guest_main(void) {
  volatile uint32_t *heap = (volatile uint32_t *)HL_HEAP_BASE;
  hl_print("fork guest: before fork\n");
  for (uint32_t i = 0; i < PAGES * 1024; i++) heap[i] = i * 7 + 3;
  uint32_t r = hl_fork();
  uint32_t idx = hl_index();
  hl_report(r);
  hl_report(idx);
  hl_report(checksum(heap, PAGES * 1024));
  uint32_t mine = r == 0 ? 0xdead0000u : 0xc0de0000u + idx;
  heap[0] = mine;
  if (r != 0 && idx < PAGES) heap[idx * 1024] = mine;
  hl_report(heap[0]);
  if (r == 0) {
    hl_print("parent\n");
  } else {
    hl_print("child ");
    hl_print_u32(idx);
    hl_print("\n");
  }
}

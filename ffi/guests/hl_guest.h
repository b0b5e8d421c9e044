/*
 * The guest side of hyperlab's micro-VMM port-I/O interface (lib/kvm/vmm/ports.ts is the host side).
 * Freestanding: guests have no libc. Memory layout: image at 0x10000, stack below 0x100000, heap from 0x100000.
 */
#ifndef HL_GUEST_H
#define HL_GUEST_H
#include <stdint.h>

#define HL_PORT_SERIAL 0x3f8    /* COM1 data: OUT a byte to the console */
#define HL_PORT_SERIAL_LSR 0x3fd /* COM1 line status: IN reads "transmitter empty" */
#define HL_PORT_REPORT 0x500    /* OUT u32: report a value to the VMM */
#define HL_PORT_ARG 0x504       /* OUT u32: argument of the next request */
#define HL_PORT_PARAM 0x508     /* IN u32: parameter number ARG given by the VMM (0 when unset) */
#define HL_PORT_FORK 0x50c      /* IN u32: clone me; 0 in the parent, 1 in a child, 0xffffffff when refused */
#define HL_PORT_INDEX 0x510     /* IN u32: my clone index (0 for a booted guest, 1..N for children) */
#define HL_PORT_TICK 0x514      /* OUT u32: counted exit (exit-rate benchmark) */
#define HL_PORT_MEMSIZE 0x518   /* IN u32: guest memory size in KiB */

#define HL_HEAP_BASE 0x100000UL

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
  return v;
}
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static inline void hl_putc(char c) {
  while (!(inb(HL_PORT_SERIAL_LSR) & 0x20)) {
  }
  outb(HL_PORT_SERIAL, (uint8_t)c);
}
static inline void hl_print(const char *s) {
  while (*s) hl_putc(*s++);
}
static inline void hl_print_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  hl_print(&buf[i]);
}
static inline void hl_report(uint32_t v) { outl(HL_PORT_REPORT, v); }
static inline uint32_t hl_param(uint32_t n) {
  outl(HL_PORT_ARG, n);
  return inl(HL_PORT_PARAM);
}
static inline uint32_t hl_fork(void) { return inl(HL_PORT_FORK); }
static inline uint32_t hl_index(void) { return inl(HL_PORT_INDEX); }
static inline uint32_t hl_memsize_kib(void) { return inl(HL_PORT_MEMSIZE); }
static inline void hl_halt(void) {
  for (;;) __asm__ volatile("hlt");
}
#endif

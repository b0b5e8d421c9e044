/* Entry of 32-bit protected-mode guests: flat segments and ESP set by the VMM; call guest_main, then halt. */
  .section .text.start, "ax"
  .globl _start
  .code32
_start:
  call guest_main
1:
  hlt
  jmp 1b
  .section .note.GNU-stack, "", @progbits

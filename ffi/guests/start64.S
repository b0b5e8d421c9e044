/* Entry of 64-bit guests: the VMM enters in long mode with paging on and RSP set; call guest_main, then halt. */
  .section .text.start, "ax"
  .globl _start
  .code64
_start:
  call guest_main
1:
  hlt
  jmp 1b
  .section .note.GNU-stack, "", @progbits

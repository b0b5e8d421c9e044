/* Real-mode guest: CS=DS=0x1000 (image at 0x10000, IP 0). Prints a line on COM1, reports 16 and halts. */
  .code16
  .globl _start
_start:
  mov $msg, %si
1:
  lodsb
  test %al, %al
  jz 2f
  mov $0x3f8, %dx
  out %al, %dx
  jmp 1b
2:
  mov $0x500, %dx
  mov $16, %eax
  out %eax, %dx
3:
  hlt
  jmp 3b
msg:
  .asciz "hello from real mode\n"
  .section .note.GNU-stack, "", @progbits

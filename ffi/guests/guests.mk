# Micro-VM guests (lib/kvm/vmm): freestanding C/asm built into flat binaries in build/guests/<name>.bin.
GUEST_DIR := guests
GUEST_OUT := $(BUILD)/guests
GUESTS64 := hello64 touch loop fork app forkloop
GUEST_CFLAGS := -ffreestanding -fno-pic -fno-pie -no-pie -nostdlib -static -O2 -Wall -Wextra -fno-stack-protector \
  -fcf-protection=none -fno-asynchronous-unwind-tables -mgeneral-regs-only -Wl,--build-id=none -Wl,-T,$(GUEST_DIR)/guest.ld
GUEST_BINS := $(GUESTS64:%=$(GUEST_OUT)/%.bin) $(GUEST_OUT)/hello32.bin $(GUEST_OUT)/hello16.bin

.PHONY: guests
all: guests
guests: $(GUEST_BINS)

$(GUEST_OUT):
	@mkdir -p $@

$(GUEST_OUT)/%.elf: $(GUEST_DIR)/%.c $(GUEST_DIR)/start64.S $(GUEST_DIR)/hl_guest.h $(GUEST_DIR)/guest.ld | $(GUEST_OUT)
	$(CC) -m64 -mno-red-zone $(GUEST_CFLAGS) -o $@ $(GUEST_DIR)/start64.S $<

$(GUEST_OUT)/hello32.elf: $(GUEST_DIR)/hello32.c $(GUEST_DIR)/start32.S $(GUEST_DIR)/hl_guest.h | $(GUEST_OUT)
	$(CC) -m32 $(GUEST_CFLAGS) -o $@ $(GUEST_DIR)/start32.S $<

$(GUEST_OUT)/hello16.elf: $(GUEST_DIR)/hello16.S | $(GUEST_OUT)
	$(CC) -m32 -c -o $(GUEST_OUT)/hello16.o $<
	ld -m elf_i386 -Ttext=0 -e _start -o $@ $(GUEST_OUT)/hello16.o

$(GUEST_OUT)/%.bin: $(GUEST_OUT)/%.elf
	objcopy -O binary $< $@

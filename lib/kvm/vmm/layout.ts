/** Guest-physical layout of hyperlab micro-VMs (the guest side is ffi/guests/guest.ld and hl_guest.h). */

/** GDT built by the VMM for protected and long mode. */
export const GDT_ADDR = 0x1000;
/** Long-mode page tables: PML4, one PDPT, four page directories of 2 MiB pages (identity map of 4 GiB). */
export const PML4_ADDR = 0x2000;
export const PDPT_ADDR = 0x3000;
export const PD_ADDR = 0x4000;
/** Where flat guest images are loaded (and where real-mode CS points). */
export const LOAD_ADDR = 0x10000;
/** Largest guest image: up to the stack area. */
export const MAX_IMAGE = 0x70000;
/** Initial stack pointer (stack grows down towards the image). */
export const STACK_TOP = 0x100000;
/** Start of the heap guests touch. */
export const HEAP_BASE = 0x100000;
/** Three pages KVM needs on Intel for real-mode emulation, and the identity-map page, above 4 GiB-ish RAM. */
export const TSS_ADDR = 0xfffbd000;
export const IDENTITY_MAP_ADDR = 0xfffbc000;
/** Smallest and largest guest memory (the page tables map 4 GiB; TSS pages sit below 4 GiB). */
export const MIN_MEMORY = 2 * 1024 * 1024;
export const MAX_MEMORY = 3 * 1024 * 1024 * 1024;

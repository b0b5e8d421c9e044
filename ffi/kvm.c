/*
 * KVM shim: thin wrappers over /dev/kvm ioctls plus the guest-memory syscalls the micro-VMM needs.
 * Policy lives in lib/kvm. Every function returns >= 0 on success or -errno (pointers come back as positive i64).
 * Struct layouts that TypeScript reads with DataView are pinned below with _Static_assert.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <linux/kvm.h>
#include "common.h"

/* Layouts lib/kvm/structs.ts relies on. */
_Static_assert(sizeof(struct kvm_regs) == 144, "kvm_regs is 18 u64: rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags");
_Static_assert(offsetof(struct kvm_regs, rip) == 128, "kvm_regs.rip");
_Static_assert(offsetof(struct kvm_regs, rflags) == 136, "kvm_regs.rflags");
_Static_assert(sizeof(struct kvm_segment) == 24, "kvm_segment");
_Static_assert(offsetof(struct kvm_segment, selector) == 12, "kvm_segment.selector");
_Static_assert(offsetof(struct kvm_segment, type) == 14, "kvm_segment.type");
_Static_assert(offsetof(struct kvm_segment, unusable) == 22, "kvm_segment.unusable");
_Static_assert(sizeof(struct kvm_dtable) == 16, "kvm_dtable");
_Static_assert(offsetof(struct kvm_sregs, cs) == 0 && offsetof(struct kvm_sregs, ldt) == 168, "kvm_sregs segments");
_Static_assert(offsetof(struct kvm_sregs, gdt) == 192 && offsetof(struct kvm_sregs, idt) == 208, "kvm_sregs tables");
_Static_assert(offsetof(struct kvm_sregs, cr0) == 224 && offsetof(struct kvm_sregs, efer) == 264, "kvm_sregs crs");
_Static_assert(offsetof(struct kvm_sregs, apic_base) == 272 && sizeof(struct kvm_sregs) == 312, "kvm_sregs size");
_Static_assert(sizeof(struct kvm_fpu) == 416, "kvm_fpu");
_Static_assert(offsetof(struct kvm_fpu, fcw) == 128 && offsetof(struct kvm_fpu, mxcsr) == 408, "kvm_fpu fields");
_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2");
_Static_assert(sizeof(struct kvm_msr_entry) == 16, "kvm_msr_entry");

HL_EXPORT int hl_close(int fd) { return (int)HL_SYSRET(close(fd)); }

/* ---- system fd ---- */

/* Opens the KVM system device (path usually /dev/kvm). */
HL_EXPORT int hl_kvm_open(const char *path) { return (int)HL_SYSRET(open(path, O_RDWR | O_CLOEXEC)); }
HL_EXPORT int hl_kvm_api_version(int sys_fd) { return (int)HL_SYSRET(ioctl(sys_fd, KVM_GET_API_VERSION, 0)); }
HL_EXPORT int hl_kvm_check_extension(int fd, int cap) { return (int)HL_SYSRET(ioctl(fd, KVM_CHECK_EXTENSION, cap)); }
HL_EXPORT int hl_kvm_vcpu_mmap_size(int sys_fd) { return (int)HL_SYSRET(ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0)); }
HL_EXPORT int hl_kvm_create_vm(int sys_fd) { return (int)HL_SYSRET(ioctl(sys_fd, KVM_CREATE_VM, 0)); }

/* Copies up to max supported CPUID entries (kvm_cpuid_entry2, 40 bytes each) into out; returns the count. */
HL_EXPORT int hl_kvm_supported_cpuid(int sys_fd, uint8_t *out, int max) {
  if (max <= 0 || max > 1024) return -EINVAL;
  size_t sz = sizeof(struct kvm_cpuid2) + (size_t)max * sizeof(struct kvm_cpuid_entry2);
  struct kvm_cpuid2 *c = calloc(1, sz);
  if (!c) return -ENOMEM;
  c->nent = (uint32_t)max;
  int r = (int)HL_SYSRET(ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c));
  if (r >= 0) {
    memcpy(out, c->entries, c->nent * sizeof(struct kvm_cpuid_entry2));
    r = (int)c->nent;
  }
  free(c);
  return r;
}

/* Raises this process's soft open-file limit to the hard limit (many micro-VMs hold two fds each); returns it. */
HL_EXPORT int64_t hl_raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0) return -errno;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) < 0) return -errno;
  }
  return (int64_t)r.rlim_cur;
}

/* ---- VM fd ---- */

HL_EXPORT int hl_vm_create_vcpu(int vm_fd, int id) { return (int)HL_SYSRET(ioctl(vm_fd, KVM_CREATE_VCPU, id)); }
HL_EXPORT int hl_vm_set_tss_addr(int vm_fd, uint64_t addr) {
  return (int)HL_SYSRET(ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)addr));
}
HL_EXPORT int hl_vm_set_identity_map_addr(int vm_fd, uint64_t addr) {
  return (int)HL_SYSRET(ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr));
}
HL_EXPORT int hl_vm_create_irqchip(int vm_fd) { return (int)HL_SYSRET(ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0)); }

/* Maps host memory at host into guest physical gpa; size 0 deletes the slot. flags: KVM_MEM_LOG_DIRTY_PAGES=1. */
HL_EXPORT int hl_vm_set_memory(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void *host) {
  struct kvm_userspace_memory_region r = {
      .slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)host};
  return (int)HL_SYSRET(ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
}

/* Fetches (and resets) the dirty bitmap of a slot: one bit per 4 KiB page, bitmap sized by the caller. */
HL_EXPORT int hl_vm_get_dirty_log(int vm_fd, uint32_t slot, uint8_t *bitmap) {
  struct kvm_dirty_log d = {.slot = slot};
  d.dirty_bitmap = bitmap;
  return (int)HL_SYSRET(ioctl(vm_fd, KVM_GET_DIRTY_LOG, &d));
}

/* Registers (or with deassign=1 removes) an eventfd signalled by guest writes to a port (pio=1) or MMIO address. */
HL_EXPORT int hl_vm_ioeventfd(int vm_fd, uint64_t addr, uint32_t len, int efd, int pio, int deassign, int match,
                              uint64_t datamatch) {
  struct kvm_ioeventfd e = {.datamatch = datamatch, .addr = addr, .len = len, .fd = efd};
  if (pio) e.flags |= KVM_IOEVENTFD_FLAG_PIO;
  if (deassign) e.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
  if (match) e.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  return (int)HL_SYSRET(ioctl(vm_fd, KVM_IOEVENTFD, &e));
}

HL_EXPORT int hl_eventfd(uint32_t initval) { return (int)HL_SYSRET(eventfd(initval, EFD_CLOEXEC | EFD_NONBLOCK)); }

/* Reads an eventfd counter into *out; -EAGAIN when it is zero. */
HL_EXPORT int hl_eventfd_read(int efd, uint64_t *out) {
  ssize_t n = read(efd, out, sizeof *out);
  return n == (ssize_t)sizeof *out ? 0 : n < 0 ? -errno : -EIO;
}

/* ---- guest memory ---- */

/* A memfd of size bytes (sparse; pages are allocated when touched). */
HL_EXPORT int hl_memfd(const char *name, uint64_t size) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -errno;
  if (ftruncate(fd, (off_t)size) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/*
 * Maps size bytes of fd from offset (or anonymous memory when fd < 0) read-write. private=1 → MAP_PRIVATE
 * (copy-on-write over the file). fixed != 0 replaces the mapping at that address. Returns the address or -errno.
 */
HL_EXPORT int64_t hl_mmap_at(int fd, uint64_t size, int private_, uint64_t fixed, uint64_t offset) {
  int flags = (private_ || fd < 0 ? MAP_PRIVATE : MAP_SHARED) | (fd < 0 ? MAP_ANONYMOUS : 0) | (fixed ? MAP_FIXED : 0);
  void *p = mmap((void *)fixed, size, PROT_READ | PROT_WRITE, flags | MAP_NORESERVE, fd, (off_t)offset);
  return p == MAP_FAILED ? -(int64_t)errno : (int64_t)(uintptr_t)p;
}
HL_EXPORT int64_t hl_mmap(int fd, uint64_t size, int private_, uint64_t fixed) {
  return hl_mmap_at(fd, size, private_, fixed, 0);
}

/*
 * Marks in bitmap (bit per 4 KiB page) the pages of [addr, addr+size) that are present and anonymous, i.e. pages
 * a MAP_PRIVATE file mapping copied on write (from /proc/self/pagemap: bit 63 present, bit 61 file/shared).
 * Returns how many were marked.
 */
HL_EXPORT int64_t hl_anon_pages(const uint8_t *addr, uint64_t size, uint8_t *bitmap) {
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  uint64_t npages = size / 4096, first = (uint64_t)(uintptr_t)addr / 4096, done = 0;
  int64_t marked = 0;
  uint64_t buf[512];
  memset(bitmap, 0, (npages + 7) / 8);
  while (done < npages) {
    uint64_t n = npages - done < 512 ? npages - done : 512;
    ssize_t r = pread(fd, buf, n * 8, (off_t)((first + done) * 8));
    if (r < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if ((uint64_t)r != n * 8) {
      close(fd);
      return -EIO;
    }
    for (uint64_t i = 0; i < n; i++) {
      if ((buf[i] >> 63) & 1 && !((buf[i] >> 61) & 1)) {
        bitmap[(done + i) / 8] |= (uint8_t)(1u << ((done + i) % 8));
        marked++;
      }
    }
    done += n;
  }
  close(fd);
  return marked;
}

/* Writes the pages marked in bitmap from base into fd at the same offsets (runs are written with one pwrite). */
HL_EXPORT int hl_write_pages(int fd, const uint8_t *base, const uint8_t *bitmap, uint64_t npages) {
  uint64_t p = 0;
  while (p < npages) {
    if (!(bitmap[p / 8] & (1u << (p % 8)))) {
      p++;
      continue;
    }
    uint64_t start = p;
    while (p < npages && (bitmap[p / 8] & (1u << (p % 8)))) p++;
    uint64_t off = start * 4096, len = (p - start) * 4096, done = 0;
    while (done < len) {
      ssize_t n = pwrite(fd, base + off + done, len - done, (off_t)(off + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      done += (uint64_t)n;
    }
  }
  return 0;
}

HL_EXPORT int hl_munmap(void *addr, uint64_t size) { return (int)HL_SYSRET(munmap(addr, size)); }

/* Writes size bytes from src into fd at offset 0 (snapshotting private guest memory into a fresh memfd). */
HL_EXPORT int hl_write_all(int fd, const uint8_t *src, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, src + done, size - done, (off_t)done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    done += (uint64_t)n;
  }
  return 0;
}

/* ---- vCPU fd ---- */

HL_EXPORT int64_t hl_vcpu_mmap_run(int vcpu_fd, uint64_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
  return p == MAP_FAILED ? -(int64_t)errno : (int64_t)(uintptr_t)p;
}
HL_EXPORT int hl_vcpu_get_regs(int fd, void *out) { return (int)HL_SYSRET(ioctl(fd, KVM_GET_REGS, out)); }
HL_EXPORT int hl_vcpu_set_regs(int fd, const void *in) { return (int)HL_SYSRET(ioctl(fd, KVM_SET_REGS, in)); }
HL_EXPORT int hl_vcpu_get_sregs(int fd, void *out) { return (int)HL_SYSRET(ioctl(fd, KVM_GET_SREGS, out)); }
HL_EXPORT int hl_vcpu_set_sregs(int fd, const void *in) { return (int)HL_SYSRET(ioctl(fd, KVM_SET_SREGS, in)); }
HL_EXPORT int hl_vcpu_get_fpu(int fd, void *out) { return (int)HL_SYSRET(ioctl(fd, KVM_GET_FPU, out)); }
HL_EXPORT int hl_vcpu_set_fpu(int fd, const void *in) { return (int)HL_SYSRET(ioctl(fd, KVM_SET_FPU, in)); }

/* Sets the vCPU's CPUID from n kvm_cpuid_entry2 records. */
HL_EXPORT int hl_vcpu_set_cpuid(int fd, const uint8_t *entries, int n) {
  if (n < 0 || n > 1024) return -EINVAL;
  struct kvm_cpuid2 *c = calloc(1, sizeof(struct kvm_cpuid2) + (size_t)n * sizeof(struct kvm_cpuid_entry2));
  if (!c) return -ENOMEM;
  c->nent = (uint32_t)n;
  memcpy(c->entries, entries, (size_t)n * sizeof(struct kvm_cpuid_entry2));
  int r = (int)HL_SYSRET(ioctl(fd, KVM_SET_CPUID2, c));
  free(c);
  return r;
}

#define HL_MAX_MSRS 32
struct hl_msrs {
  struct kvm_msrs hdr;
  struct kvm_msr_entry e[HL_MAX_MSRS];
};

/* Reads n MSRs (indices idx) into values; returns how many were read (KVM stops at the first unsupported one). */
HL_EXPORT int hl_vcpu_get_msrs(int fd, const uint32_t *idx, uint64_t *values, int n) {
  if (n < 0 || n > HL_MAX_MSRS) return -EINVAL;
  struct hl_msrs m;
  memset(&m, 0, sizeof m);
  m.hdr.nmsrs = (uint32_t)n;
  for (int i = 0; i < n; i++) m.e[i].index = idx[i];
  int r = (int)HL_SYSRET(ioctl(fd, KVM_GET_MSRS, &m));
  for (int i = 0; i < r; i++) values[i] = m.e[i].data;
  return r;
}

/* Writes n MSRs; returns how many were written. */
HL_EXPORT int hl_vcpu_set_msrs(int fd, const uint32_t *idx, const uint64_t *values, int n) {
  if (n < 0 || n > HL_MAX_MSRS) return -EINVAL;
  struct hl_msrs m;
  memset(&m, 0, sizeof m);
  m.hdr.nmsrs = (uint32_t)n;
  for (int i = 0; i < n; i++) {
    m.e[i].index = idx[i];
    m.e[i].data = values[i];
  }
  return (int)HL_SYSRET(ioctl(fd, KVM_SET_MSRS, &m));
}

/* ---- whole-vCPU state for cloning (marshalled here so TypeScript handles one opaque blob) ---- */

static const uint32_t STATE_MSRS[] = {
    0x10,       /* TSC */
    0x174,      /* SYSENTER_CS */
    0x175,      /* SYSENTER_ESP */
    0x176,      /* SYSENTER_EIP */
    0x277,      /* PAT */
    0xc0000081, /* STAR */
    0xc0000082, /* LSTAR */
    0xc0000083, /* CSTAR */
    0xc0000084, /* SFMASK */
    0xc0000102, /* KERNEL_GS_BASE */
};
#define STATE_NMSRS (sizeof STATE_MSRS / sizeof STATE_MSRS[0])

struct hl_vcpu_state {
  uint32_t magic, has_xsave, nmsrs, pad;
  struct kvm_regs regs;
  struct kvm_sregs sregs;
  struct kvm_fpu fpu;
  struct kvm_xsave xsave;
  struct kvm_xcrs xcrs;
  struct kvm_vcpu_events events;
  struct kvm_mp_state mp;
  struct kvm_debugregs debugregs;
  uint64_t msr_values[STATE_NMSRS];
};
#define HL_STATE_MAGIC 0x484c5653u /* "HLVS" */
_Static_assert(offsetof(struct hl_vcpu_state, regs) == 16, "state.regs offset used by lib/kvm/state.ts");

HL_EXPORT int hl_vcpu_state_size(void) { return (int)sizeof(struct hl_vcpu_state); }

/* Saves regs, sregs, FPU/XSAVE, XCRs, events, MP state, debug registers and the MSRs a guest needs into out. */
HL_EXPORT int hl_vcpu_save_state(int fd, struct hl_vcpu_state *s, uint64_t len) {
  if (len < sizeof *s) return -EINVAL;
  memset(s, 0, sizeof *s);
  s->magic = HL_STATE_MAGIC;
  int r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_REGS, &s->regs))) < 0) return r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_SREGS, &s->sregs))) < 0) return r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_FPU, &s->fpu))) < 0) return r;
  s->has_xsave = ioctl(fd, KVM_GET_XSAVE, &s->xsave) == 0 && ioctl(fd, KVM_GET_XCRS, &s->xcrs) == 0;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events))) < 0) return r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_MP_STATE, &s->mp))) < 0) return r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs))) < 0) return r;
  r = hl_vcpu_get_msrs(fd, STATE_MSRS, s->msr_values, (int)STATE_NMSRS);
  if (r < 0) return r;
  s->nmsrs = (uint32_t)r;
  return 0;
}

/* Restores a blob saved by hl_vcpu_save_state (in QEMU's order: regs, xsave, xcrs, sregs, msrs, mp, events, dr). */
HL_EXPORT int hl_vcpu_restore_state(int fd, const struct hl_vcpu_state *s, uint64_t len) {
  if (len < sizeof *s || s->magic != HL_STATE_MAGIC) return -EINVAL;
  int r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_REGS, &s->regs))) < 0) return r;
  if (s->has_xsave) {
    if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_XSAVE, &s->xsave))) < 0) return r;
    if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_XCRS, &s->xcrs))) < 0) return r;
  } else if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_FPU, &s->fpu))) < 0) {
    return r;
  }
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_SREGS, &s->sregs))) < 0) return r;
  r = hl_vcpu_set_msrs(fd, STATE_MSRS, s->msr_values, (int)s->nmsrs);
  if (r < 0) return r;
  if ((uint32_t)r != s->nmsrs) return -EIO;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_MP_STATE, &s->mp))) < 0) return r;
  if ((r = (int)HL_SYSRET(ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events))) < 0) return r;
  return (int)HL_SYSRET(ioctl(fd, KVM_SET_DEBUGREGS, &s->debugregs));
}

/* ---- KVM_RUN and exit decoding ---- */

/* Set on a thread when its sync watchdog expired; its next hl_vcpu_run returns -EINTR without entering the guest. */
static __thread volatile sig_atomic_t watchdog_fired;

/*
 * Decoded exit, 16 u32 words (lib/kvm/exits.ts reads them):
 *  w0 exit_reason
 *  IO:        w1 direction (0 in, 1 out), w2 size, w3 port, w4/w5 first data element lo/hi, w6 count
 *  MMIO:      w1 is_write, w2 len, w4/w5 data lo/hi, w6/w7 physical address lo/hi
 *  FAIL_ENTRY w4/w5 hardware_entry_failure_reason, w6 cpu
 *  INTERNAL:  w1 suberror, w2 ndata, w4..w7 data[0], data[1]
 *  SYSTEM_EVENT: w1 type
 *  w14/w15 the thread running KVM_RUN (for hl_vcpu_kick)
 */
static void decode_exit(struct kvm_run *run, uint32_t *w) {
  memset(w, 0, 14 * sizeof *w);
  w[0] = run->exit_reason;
  uint64_t v = 0;
  switch (run->exit_reason) {
  case KVM_EXIT_IO:
    w[1] = run->io.direction;
    w[2] = run->io.size;
    w[3] = run->io.port;
    w[6] = run->io.count;
    if (run->io.direction == KVM_EXIT_IO_OUT && run->io.size <= 8) memcpy(&v, (uint8_t *)run + run->io.data_offset, run->io.size);
    w[4] = (uint32_t)v;
    w[5] = (uint32_t)(v >> 32);
    break;
  case KVM_EXIT_MMIO:
    w[1] = run->mmio.is_write;
    w[2] = run->mmio.len;
    if (run->mmio.is_write) memcpy(&v, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
    w[4] = (uint32_t)v;
    w[5] = (uint32_t)(v >> 32);
    w[6] = (uint32_t)run->mmio.phys_addr;
    w[7] = (uint32_t)(run->mmio.phys_addr >> 32);
    break;
  case KVM_EXIT_FAIL_ENTRY:
    w[4] = (uint32_t)run->fail_entry.hardware_entry_failure_reason;
    w[5] = (uint32_t)(run->fail_entry.hardware_entry_failure_reason >> 32);
    w[6] = run->fail_entry.cpu;
    break;
  case KVM_EXIT_INTERNAL_ERROR:
    w[1] = run->internal.suberror;
    w[2] = run->internal.ndata;
    if (run->internal.ndata > 0) memcpy(&w[4], &run->internal.data[0], 8);
    if (run->internal.ndata > 1) memcpy(&w[6], &run->internal.data[1], 8);
    break;
  case KVM_EXIT_SYSTEM_EVENT:
    w[1] = run->system_event.type;
    break;
  default:
    break;
  }
}

/* One KVM_RUN; decodes the exit into w. Returns the exit reason, or -errno (-EINTR when kicked). */
HL_EXPORT int hl_vcpu_run(int fd, struct kvm_run *run, uint32_t *w) {
  uint64_t tid = (uint64_t)pthread_self();
  memcpy(&w[14], &tid, sizeof tid);
  if (watchdog_fired) return -EINTR;
  if (ioctl(fd, KVM_RUN, 0) < 0) return -errno;
  decode_exit(run, w);
  return (int)run->exit_reason;
}

/* Supplies the value a pending port IN or MMIO read returns; it lands in the guest on the next KVM_RUN. */
HL_EXPORT int hl_vcpu_complete_read(struct kvm_run *run, uint64_t value) {
  if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN) {
    uint8_t *d = (uint8_t *)run + run->io.data_offset;
    for (uint32_t i = 0; i < run->io.count; i++) memcpy(d + i * run->io.size, &value, run->io.size);
    return 0;
  }
  if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
    memcpy(run->mmio.data, &value, run->mmio.len <= 8 ? run->mmio.len : 8);
    return 0;
  }
  return -EINVAL;
}

HL_EXPORT int hl_vcpu_set_immediate_exit(struct kvm_run *run, int v) {
  run->immediate_exit = (uint8_t)(v != 0);
  return 0;
}

#define HL_KICK_SIGNAL (SIGRTMIN + 6)
static void kick_handler(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  if (info && info->si_code == SI_TIMER) watchdog_fired = 1;
}

/* Installs the no-op handler of the kick signal (without SA_RESTART, so KVM_RUN returns -EINTR). */
HL_EXPORT int hl_kick_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = kick_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  return (int)HL_SYSRET(sigaction(HL_KICK_SIGNAL, &sa, NULL));
}

/* Makes a running (or about to run) KVM_RUN return -EINTR: sets immediate_exit and signals its thread. */
HL_EXPORT int hl_vcpu_kick(struct kvm_run *run, uint64_t tid) {
  __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (tid == 0) return 0;
  int r = pthread_kill((pthread_t)tid, HL_KICK_SIGNAL);
  return r == 0 || r == ESRCH ? 0 : -r;
}

/*
 * Watchdog for sync KVM_RUN on the calling thread: after ms milliseconds the kick signal is sent to this thread,
 * so a KVM_RUN in progress returns -EINTR (a guest spinning without exits cannot hang the caller). ms = 0 disarms.
 * One timer per thread, created on first use.
 */
static __thread timer_t watchdog_timer;
static __thread int watchdog_ready;

HL_EXPORT int hl_sync_watchdog(uint32_t ms) {
  if (!watchdog_ready) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = HL_KICK_SIGNAL;
    ev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &ev, &watchdog_timer) < 0) return -errno;
    watchdog_ready = 1;
  }
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  watchdog_fired = 0;
  its.it_value.tv_sec = ms / 1000;
  its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
  return (int)HL_SYSRET(timer_settime(watchdog_timer, 0, &its, NULL));
}

/*
 * The exit-handling loop written in C (reference for the exits benchmark): runs the vCPU, counting port-OUT exits
 * to port, until another exit happens (decoded into w) or max exits were counted. Returns the count or -errno.
 */
HL_EXPORT int64_t hl_vcpu_count_out_exits(int fd, struct kvm_run *run, uint32_t port, int64_t max, uint32_t *w) {
  int64_t n = 0;
  while (n < max) {
    if (ioctl(fd, KVM_RUN, 0) < 0) return -errno;
    if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port) {
      n++;
      continue;
    }
    break;
  }
  decode_exit(run, w);
  return n;
}

/* hyperlab shim over libxenctrl (Xen 4.17) and the privcmd hypercall ioctl. One xc_interface per process, opened
 * by hl_xc_open; every call returns >= 0 or -errno. Results are written into caller buffers of u64 slots so the
 * TypeScript side reads them without struct layout guesses. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xenctrl.h>
#include <xen/sys/privcmd.h>

static xc_interface *xch;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

HL_EXPORT int hl_xc_open(void) {
  pthread_mutex_lock(&lock);
  if (!xch) xch = xc_interface_open(NULL, NULL, 0);
  int r = xch ? 0 : -(errno ? errno : ENODEV);
  pthread_mutex_unlock(&lock);
  return r;
}

#define NEED_XCH() if (!xch) return -EBADF

/* out[0] = (major << 16) | minor; extraversion string into extra (>= 16 bytes). */
HL_EXPORT int hl_xc_version(uint64_t *out, char *extra) {
  NEED_XCH();
  int v = xc_version(xch, XENVER_version, NULL);
  if (v < 0) return -errno;
  out[0] = (uint64_t)v;
  xen_extraversion_t ev;
  memset(ev, 0, sizeof ev);
  if (xc_version(xch, XENVER_extraversion, &ev) < 0) return -errno;
  memcpy(extra, ev, sizeof ev);
  return 0;
}

/* out: nr_cpus, threads_per_core, cores_per_socket, nr_nodes, max_cpu_id, max_node_id, cpu_khz, total_pages,
 * free_pages, scrub_pages, capabilities, page size. */
HL_EXPORT int hl_xc_physinfo(uint64_t *out) {
  NEED_XCH();
  xc_physinfo_t p;
  memset(&p, 0, sizeof p);
  if (xc_physinfo(xch, &p) < 0) return -errno;
  uint64_t v[] = {p.nr_cpus, p.threads_per_core, p.cores_per_socket, p.nr_nodes, p.max_cpu_id, p.max_node_id,
                  p.cpu_khz, p.total_pages, p.free_pages, p.scrub_pages, p.capabilities, XC_PAGE_SIZE};
  memcpy(out, v, sizeof v);
  return 0;
}

/* Up to max domains from first; per domain 8 slots: domid, flags, tot_pages, max_pages, cpu_time (ns),
 * nr_online_vcpus, max_vcpu_id, cpupool. Returns the count. */
HL_EXPORT int hl_xc_domain_list(uint32_t first, uint32_t max, uint64_t *out) {
  NEED_XCH();
  if (max == 0 || max > 4096) return -EINVAL;
  xc_domaininfo_t *info = calloc(max, sizeof *info);
  if (!info) return -ENOMEM;
  int n = xc_domain_getinfolist(xch, first, max, info);
  if (n < 0) { int e = errno; free(info); return -e; }
  for (int i = 0; i < n; i++) {
    uint64_t *o = out + (size_t)i * 8;
    o[0] = info[i].domain; o[1] = info[i].flags; o[2] = info[i].tot_pages; o[3] = info[i].max_pages;
    o[4] = info[i].cpu_time; o[5] = info[i].nr_online_vcpus; o[6] = info[i].max_vcpu_id; o[7] = info[i].cpupool;
  }
  free(info);
  return n;
}

/* Size in bytes of a CPU bitmap on this host. */
HL_EXPORT int hl_xc_cpumap_size(void) {
  NEED_XCH();
  int n = xc_get_cpumap_size(xch);
  return n <= 0 ? -(errno ? errno : EINVAL) : n;
}

HL_EXPORT int hl_xc_vcpu_get_affinity(uint32_t domid, int vcpu, uint8_t *hard, uint8_t *soft) {
  NEED_XCH();
  return xc_vcpu_getaffinity(xch, domid, vcpu, hard, soft, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT) < 0
             ? -errno : 0;
}

/* Sets hard affinity; the map is updated in place with the effective affinity. */
HL_EXPORT int hl_xc_vcpu_set_affinity(uint32_t domid, int vcpu, uint8_t *hard) {
  NEED_XCH();
  return xc_vcpu_setaffinity(xch, domid, vcpu, hard, NULL, XEN_VCPUAFFINITY_HARD) < 0 ? -errno : 0;
}

HL_EXPORT int hl_xc_set_max_mem(uint32_t domid, uint64_t max_kib) {
  NEED_XCH();
  return xc_domain_setmaxmem(xch, domid, max_kib) < 0 ? -errno : 0;
}

HL_EXPORT int hl_xc_pause(uint32_t domid) {
  NEED_XCH();
  return xc_domain_pause(xch, domid) < 0 ? -errno : 0;
}

HL_EXPORT int hl_xc_unpause(uint32_t domid) {
  NEED_XCH();
  return xc_domain_unpause(xch, domid) < 0 ? -errno : 0;
}

/* Raw hypercall through /dev/xen/privcmd (IOCTL_PRIVCMD_HYPERCALL): op and five arguments; *ret gets the
 * hypercall's return value. Returns 0 when the ioctl ran, -errno when it did not (a hypercall's own negative
 * result arrives as -errno from the ioctl as well, so *ret is set only on success). */
HL_EXPORT int hl_xc_hypercall(uint64_t op, const uint64_t *args, int64_t *ret) {
  int fd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  privcmd_hypercall_t call = {.op = op};
  for (int i = 0; i < 5; i++) call.arg[i] = args[i];
  long r = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &call);
  int e = errno;
  close(fd);
  if (r < 0) return -e;
  *ret = r;
  return 0;
}
